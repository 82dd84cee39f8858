/**
 * The key/value store, persistent maps, statistics with the slow-remote
 * emulator, and file ids — through the library, the CLI, a SIGKILL, and
 * several processes at once, on real store files.
 */

import { DatabaseSync } from "node:sqlite";
import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { trove, troveOk } from "./_cli.ts";
import { sameBytes, spawnFixture, tempDir, waitForLine } from "./_helpers.ts";
import { roundContent } from "./fixtures/content.ts";
import { testServer } from "./_dav.ts";
import {
  AlreadyExists,
  BadKey,
  generateKey,
  InvalidArgument,
  NotFound,
  pack,
  PersistentMap,
  Store,
  unpack,
} from "../mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function fresh(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

Deno.test("a KV store keeps namespaced keys: set, get, ranges, info, list, soft delete, move, batch", async () => {
  await using dir = await tempDir();
  await using store = await Store.open(`${dir.path}/kv.trove`, { create: true });
  const kv = await store.kv("borg");
  await kv.set("config/settings", '{"x":1}');
  await kv.set("data/0b", fresh(100));
  const big = fresh(300_000); // several 16 KiB chunks
  await kv.set("data/0a", big);
  await kv.set("top", "root namespace");
  assertEquals(await kv.getText("config/settings"), '{"x":1}');
  assert(sameBytes(await kv.get("data/0a"), big));
  assert(
    sameBytes(
      await kv.get("data/0a", { offset: 65_000, length: 70_000 }),
      big.subarray(65_000, 135_000),
    ),
  );
  assert(sameBytes(await kv.get("data/0a", { offset: 299_990 }), big.subarray(299_990)));
  assertEquals((await kv.get("data/0a", { offset: 300_000 })).length, 0);
  assert(
    sameBytes(
      new Uint8Array(
        await new Response(await kv.stream("data/0a", { offset: 1, length: 200_000 }))
          .arrayBuffer(),
      ),
      big.subarray(1, 200_001),
    ),
  );
  const info = await kv.info("data/0a");
  assertEquals([info.key, info.namespace, info.name, info.size, info.deleted], [
    "data/0a",
    "data",
    "0a",
    300_000,
    false,
  ]);
  assertEquals(await Array.fromAsync(kv.list("data"), (i) => i.name), ["0a", "0b"]);
  assertEquals(await Array.fromAsync(kv.list(""), (i) => i.key), ["top"]);
  assertEquals(await kv.count("data"), 2);

  // Overwrite keeps the creation time; soft delete hides, undelete restores.
  const created = info.created.getTime();
  await kv.set("data/0a", "smaller");
  assertEquals((await kv.info("data/0a")).created.getTime(), created);
  await kv.delete("data/0a", { soft: true });
  assert(!(await kv.has("data/0a")));
  await assertRejects(() => kv.get("data/0a"), NotFound);
  assertEquals((await kv.info("data/0a")).deleted, true);
  assertEquals(await Array.fromAsync(kv.list("data", { deleted: true }), (i) => i.name), ["0a"]);
  assertEquals(await Array.fromAsync(kv.list("data"), (i) => i.name), ["0b"]);
  await kv.undelete("data/0a");
  assertEquals(await kv.getText("data/0a"), "smaller");

  // Moves: across namespaces; onto a value only with overwrite.
  await kv.move("data/0a", "archive/0a");
  assertEquals(await kv.getText("archive/0a"), "smaller");
  assert(!(await kv.has("data/0a")));
  await assertRejects(() => kv.move("archive/0a", "data/0b"), AlreadyExists);
  assertEquals((await kv.info("data/0b")).size, 100);
  await kv.move("archive/0a", "data/0b", { overwrite: true });
  assertEquals(await kv.getText("data/0b"), "smaller");

  // A batch lands whole or not at all — even when the caller caught the failure.
  await kv.batch(async () => {
    for (let i = 0; i < 100; i++) await kv.set(`many/k${String(i).padStart(3, "0")}`, `v${i}`);
  });
  assertEquals(await kv.count("many"), 100);
  await assertRejects(() =>
    kv.batch(async () => {
      await kv.set("many/extra", "x");
      await kv.delete("many/k000");
      await kv.delete("no/such").catch(() => {}); // caught, yet the batch is torn
    }), NotFound);
  assert(!(await kv.has("many/extra")) && await kv.has("many/k000"));

  // Dedup across keys, and the store checks clean with its KV tables.
  const before = (await kv.usage()).storedBytes;
  await kv.set("copy/a", big);
  await kv.set("copy/b", big);
  assert((await kv.usage()).storedBytes - before < 310_000, "two equal values share their chunks");
  assertEquals((await store.kvStores()).map((k) => [k.name, k.keys]), [["borg", 105]]);
  assert((await store.volumes()).every((v) => !v.name.includes("borg")), "a KV store is no volume");
  const report = await store.check({ verify: true });
  assert(report.ok, JSON.stringify(report.problems));
  await kv.destroy();
  await assertRejects(() => kv.get("data/0b"), NotFound);
  assertEquals(await store.kvStores(), []);
  assert((await store.check()).ok);
});

Deno.test("bad input to a KV store is a clear error and changes nothing", async () => {
  await using store = await Store.open(":memory:", { create: true });
  const kv = await store.kv("k");
  await kv.set("ns/ok", "kept");
  for (
    const key of [
      "",
      "a b",
      "a/b/c",
      "ns/../x",
      "..",
      "ns/",
      "/x",
      "ключ",
      "tab\there",
      "x".repeat(1025),
    ]
  ) {
    await assertRejects(() => kv.set(key, "v"), InvalidArgument);
    await assertRejects(() => kv.get(key), InvalidArgument);
  }
  await assertRejects(() => kv.get("ns/missing"), NotFound);
  await assertRejects(() => kv.info("ns/missing"), NotFound);
  await assertRejects(() => kv.delete("ns/missing"), NotFound);
  await assertRejects(() => kv.undelete("ns/ok"), NotFound); // not soft deleted
  await assertRejects(() => kv.move("ns/missing", "ns/other"), NotFound);
  await assertRejects(() => kv.get("ns/ok", { offset: 5 }), InvalidArgument);
  await assertRejects(() => kv.get("ns/ok", { offset: 2, length: 3 }), InvalidArgument);
  await assertRejects(() => kv.get("ns/ok", { offset: -1 }), InvalidArgument);
  await assertRejects(() => kv.get("ns/ok", { length: 1.5 }), InvalidArgument);
  await assertRejects(() => store.kv("bad name!"), InvalidArgument);
  await assertRejects(() => store.kv("odd", { chunkSize: 1000 }), InvalidArgument);
  await assertRejects(() => store.kv("odd", { compression: 99 }), InvalidArgument);
  assert(!(await store.kvStores()).some((k) => k.name === "odd"));
  await assertRejects(() => store.kv("absent", { create: false }), NotFound);
  // A stream that fails midway leaves the old value and no staging behind.
  const failing = new ReadableStream<Uint8Array>({
    start(ctl) {
      ctl.enqueue(new Uint8Array(200_000));
      ctl.error(new Error("source broke"));
    },
  });
  await assertRejects(() => kv.set("ns/ok", failing), Error, "source broke");
  assertEquals(await kv.getText("ns/ok"), "kept");
  assertEquals(await Array.fromAsync(kv.list("ns"), (i) => i.key), ["ns/ok"]);
  // Another handle on a destroyed store says so.
  const other = await store.kv("k");
  await kv.destroy();
  await assertRejects(() => other.set("ns/x", "v"), NotFound, "destroyed");
  assert((await store.check()).ok);
});

Deno.test("an encrypted KV store seals keys and values; a wrong or missing key is BadKey", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/sealed.trove`;
  const key = generateKey();
  assertEquals(key.length, 32);
  {
    await using store = await Store.open(path, { create: true });
    const kv = await store.kv("vault", { keyFile: key });
    assert(kv.encrypted);
    await kv.set("secrets/launch-codes", "TOPSECRETVALUE".repeat(10));
    await kv.set("secrets/b", "two");
    await kv.set("secrets/a", "one");
    assertEquals(await Array.fromAsync(kv.list("secrets"), (i) => i.name), [
      "a",
      "b",
      "launch-codes",
    ]);
    await store.checkpoint();
  }
  const raw = await Deno.readFile(path);
  const text = dec.decode(raw);
  assert(
    !text.includes("launch-codes") && !text.includes("TOPSECRETVALUE"),
    "names and values are sealed",
  );
  await using store = await Store.open(path);
  await assertRejects(() => store.kv("vault"), BadKey);
  await assertRejects(() => store.kv("vault", { keyFile: generateKey() }), BadKey);
  const kv = await store.kv("vault", { keyFile: key });
  assertEquals(await kv.getText("secrets/a"), "one");
  await kv.move("secrets/a", "other/a");
  assertEquals(await kv.getText("other/a"), "one");
  await assertRejects(() => store.kv("plain", { passphrase: "" }), BadKey);
  assert((await store.check({ verify: true })).ok);
});

Deno.test("a partial load reads only the chunks it covers", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/p.trove`;
  const value = fresh(16 << 20);
  {
    await using store = await Store.open(path, { create: true });
    await (await store.kv("objs")).set("big", value);
  }
  // Emulating a remote sends every chunk through the backend seam, where the calls count.
  await using store = await Store.open(path, { emulate: { latencyUs: 1 } });
  const kv = await store.kv("objs");
  const at = 10_000_000;
  const part = await kv.get("big", { offset: at, length: 4096 });
  assert(sameBytes(part, value.subarray(at, at + 4096)));
  assertEquals(store.backendStats().ops.get.calls, 1, "one 16 KiB chunk read for 4 KiB");
  const across = await kv.get("big", { offset: (1 << 16) - 10, length: 20 });
  assert(sameBytes(across, value.subarray((1 << 16) - 10, (1 << 16) + 10)));
  assertEquals(store.backendStats().ops.get.calls, 3);
});

Deno.test("a value of hundreds of MiB streams in and out in bounded memory", async () => {
  await using dir = await tempDir();
  await using store = await Store.open(`${dir.path}/big.trove`, { create: true });
  const kv = await store.kv("objs");
  const size = 384 << 20;
  const block = fresh(1 << 20);
  const rss0 = Deno.memoryUsage().rss;
  let peak = rss0;
  let sent = 0;
  await kv.set(
    "huge",
    new ReadableStream<Uint8Array>({
      pull(ctl) {
        if (sent >= size) return ctl.close();
        const b = block.slice();
        b[0] = sent >> 20; // every MiB different
        ctl.enqueue(b);
        sent += b.length;
        peak = Math.max(peak, Deno.memoryUsage().rss);
      },
    }),
  );
  assertEquals((await kv.info("huge")).size, size);
  let got = 0;
  let ok = true;
  for await (const piece of await kv.stream("huge")) {
    ok &&= piece[0] === ((got >> 20) & 0xff) || (got & 0xfffff) !== 0;
    got += piece.length;
    peak = Math.max(peak, Deno.memoryUsage().rss);
  }
  assertEquals(got, size);
  assert(ok, "the stream returns the bytes in order");
  assert(peak - rss0 < 200 << 20, `memory grew by ${(peak - rss0) >> 20} MiB`);
});

Deno.test("SIGKILL during a streamed set leaves the previous value; gc drops the staged part", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/crash.trove`;
  const size = 24 << 20;
  {
    await using store = await Store.open(path, { create: true });
    await store.kv("crash");
  }
  const child = spawnFixture("kv_writer.ts", [path, "blob", String(size)], { stderr: "inherit" });
  await waitForLine(child, (l) => l === `staged 2 ${12 << 20}`);
  child.kill("SIGKILL");
  assertEquals((await child.status).signal, "SIGKILL");
  await using store = await Store.open(path);
  const kv = await store.kv("crash");
  const value = await kv.get("blob");
  assert(
    sameBytes(value, roundContent(1, size)) || sameBytes(value, roundContent(2, size)),
    "a whole round",
  );
  assert((await store.check()).ok);
  const report = await store.gc({ sessionTimeoutMs: 0 });
  assert((report.kvStagingDropped ?? 0) >= 1, JSON.stringify(report));
  assert((await store.check()).ok);
  assertEquals(await Array.fromAsync(kv.list(""), (i) => i.key), ["blob"]);
});

Deno.test("statistics count calls, bytes and time; the emulator adds latency and bandwidth", async () => {
  await using store = await Store.open(":memory:", { create: true });
  const slow = await store.kv("slow", { latencyUs: 3000, bandwidthBps: 8_000_000 });
  await slow.set("k", new Uint8Array(10_000)); // 10 ms at 1 MB/s
  for (let i = 0; i < 5; i++) await slow.get("k");
  const s = slow.stats();
  assertEquals(s.ops.set.calls, 1);
  assertEquals(s.ops.get.calls, 5);
  assertEquals(s.ops.get.bytesOut, 50_000);
  assertEquals(s.ops.set.bytesIn, 10_000);
  assert(s.ops.get.totalMs >= 5 * (3 + 10) * 0.9, `gets took ${s.ops.get.totalMs} ms`);
  assert(s.ops.get.meanMs >= 11 && s.total.throughputBytesPerSec > 0);
  assertEquals(s.emulation, { latencyUs: 3000, bandwidthBps: 8_000_000 });
  slow.resetStats();
  assertEquals(slow.stats().total.calls, 0);
  await assertRejects(() => store.kv("x", { latencyUs: -1 }), InvalidArgument);

  const vol = await store.volume();
  await vol.writeFile("/a", new Uint8Array(1234));
  await vol.readFile("/a");
  {
    await using f = await vol.open("/a", "r+");
    await f.write(new Uint8Array(10));
  }
  const v = vol.stats();
  assertEquals(v.ops.writeFile.bytesIn, 1234);
  assertEquals(v.ops.readFile.bytesOut, 1234);
  assertEquals(v.ops["handle.write"].bytesIn, 10);
  assertEquals((await vol.info()).stats.ops.readFile.calls, 1);
});

Deno.test("TROVE_LATENCY and TROVE_BANDWIDTH reach a real process: its KV statistics show the emulation", async () => {
  await using dir = await tempDir();
  await troveOk(dir.path, ["init"]);
  await troveOk(dir.path, ["kv", "set", "k", "v"]);
  const r = await troveOk(dir.path, ["kv", "stats", "--json"], {
    env: { TROVE_LATENCY: "2500", TROVE_BANDWIDTH: "1000000" },
  });
  const stats = JSON.parse(r.stdout);
  assertEquals(stats.stats.emulation, { latencyUs: 2500, bandwidthBps: 1000000 });
  const bad = await trove(dir.path, ["kv", "stats"], { env: { TROVE_LATENCY: "soon" } });
  assertEquals(bad.code, 14, bad.stderr);
  assert(bad.stderr.includes("TROVE_LATENCY"), bad.stderr);
});

Deno.test("PersistentMap: a Map kept in the store, batched or durable, shared by processes", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/maps.trove`;
  {
    await using m = await PersistentMap.open(path, "shared", {
      default: { theme: "dark", n: 1 },
      compression: 19,
    });
    assertEquals(await m.get("theme"), "dark");
    await m.set("when", new Date(0));
    await m.set("set", new Set([1, 2]));
    await m.set("a key with spaces/and slashes ✓", { deep: [1, { two: 2n }] });
    assertEquals(await m.size, 5);
    assert(await m.delete("n"));
    assert(!(await m.delete("n")));
    await assertRejects(() => m.set("fn", (() => 1) as unknown), Error);
    assertEquals(await m.size, 4);
  }
  // Several processes at once, each adding its own keys.
  const workers = [1, 2, 3].map((id) => spawnFixture("map_worker.ts", [path, String(id), "40"]));
  for (const w of workers) {
    const out = await w.output();
    assertEquals(out.code, 0, dec.decode(out.stderr));
  }
  await using store = await Store.open(path);
  const m = await PersistentMap.open(store, "shared", { default: { ignored: true } });
  assertEquals(await m.size, 4 + 120);
  assertEquals(await m.get("a key with spaces/and slashes ✓"), { deep: [1, { two: 2n }] });
  assertEquals((await m.get("when") as Date).getTime(), 0);
  assert(!(await m.has("ignored")), "defaults fill only a new map");
  assertEquals(await m.get("w2-39"), { id: "2", i: 39 });
  const keys = await Array.fromAsync(m.keys());
  assertEquals(keys.length, 124);
  // Batched: nothing reaches the store before flush, everything after.
  const b = await PersistentMap.open(store, "batched", { durable: false });
  for (let i = 0; i < 500; i++) await b.set(`k${i}`, i);
  await b.delete("k0");
  assertEquals(await b.size, 499);
  assertEquals(await b.get("k7"), 7);
  const peek = await PersistentMap.open(store, "batched");
  assertEquals(await peek.size, 0);
  await b.flush();
  assertEquals(await peek.size, 499);
  await b.clear();
  assertEquals(await peek.size, 0);
  await b.close();
  await assertRejects(() => b.get("k1"), InvalidArgument);
  assert((await store.check()).ok);
});

Deno.test("file ids: stable across renames, unique, found by byId, and the flat files API", async () => {
  await using dir = await tempDir();
  await using store = await Store.open(`${dir.path}/ids.trove`, { create: true });
  const vol = await store.volume();
  await vol.mkdir("/a");
  await vol.writeTextFile("/a/f.txt", "one");
  const { id } = await vol.stat("/a/f.txt");
  assert(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id), id);
  assert(id !== (await vol.stat("/a")).id);
  await vol.rename("/a", "/b");
  await vol.writeTextFile("/b/f.txt", "two"); // a new version, the same file
  assertEquals((await vol.stat("/b/f.txt")).id, id);
  const f = await vol.byId(id);
  assertEquals(f.path, "/b/f.txt");
  assertEquals(await f.readTextFile(), "two");
  await f.writeFile(enc.encode("three"));
  assertEquals(await vol.readTextFile("/b/f.txt"), "three");
  assertEquals((await f.stat()).id, id);
  await assertRejects(() => vol.byId("not-a-uuid"), InvalidArgument);
  await assertRejects(() => vol.byId(crypto.randomUUID()), NotFound);

  // Chosen ids; no two files of the store share one (other volumes included).
  const chosen = "0f0f0f0f-1111-4222-8333-444455556666";
  await vol.writeTextFile("/chosen", "c", { id: chosen.toUpperCase() });
  assertEquals((await vol.stat("/chosen")).id, chosen);
  await assertRejects(() => vol.writeTextFile("/again", "x", { id: chosen }), AlreadyExists);
  const other = await store.createVolume("other");
  await assertRejects(() => other.writeTextFile("/x", "x", { id: chosen }), AlreadyExists);
  await assertRejects(
    () => vol.writeTextFile("/chosen", "y", { id: crypto.randomUUID() }),
    InvalidArgument,
  );
  assert(!(await vol.exists("/again")));

  // A snapshot's copy shows its original's id; a file restored after deletion gets it back.
  await vol.createSnapshot("s1");
  assertEquals((await (await vol.snapshot("s1")).stat("/b/f.txt")).id, id);
  await vol.remove("/b/f.txt", { permanent: true });
  await assertRejects(() => vol.byId(id), NotFound);
  await vol.restoreSnapshot("s1");
  assertEquals((await vol.stat("/b/f.txt")).id, id);

  // bsfs-style flat files.
  const fid = await vol.files.write(enc.encode("payload"));
  assert(await vol.files.exists(fid));
  assertEquals(dec.decode(await vol.files.read(fid)), "payload");
  assertEquals((await vol.files.stat(fid)).size, 7);
  assertEquals(dec.decode(await vol.files.read(id)), "three", "read finds any file by id");
  await vol.files.delete(fid);
  assert(!(await vol.files.exists(fid)));
  await assertRejects(() => vol.files.read(fid), NotFound);
  await assertRejects(() => vol.files.delete(fid), NotFound);
  assert((await store.check()).ok);
});

Deno.test("the CLI: write, read, delete and stat by id; kv verbs with their exit codes", async () => {
  await using dir = await tempDir();
  const cwd = dir.path;
  await troveOk(cwd, ["init"]);
  const id = (await troveOk(cwd, ["write", "--data", "hello"])).stdout.trim();
  assertEquals((await troveOk(cwd, ["read", "--id", id])).stdout, "hello");
  await Deno.writeFile(`${cwd}/in.bin`, new Uint8Array([1, 2, 3]));
  const id2 =
    JSON.parse((await troveOk(cwd, ["write", "--input-file", "in.bin", "--json"])).stdout).id;
  await troveOk(cwd, ["read", "--id", id2, "--output", "out.bin"]);
  assertEquals(await Deno.readFile(`${cwd}/out.bin`), new Uint8Array([1, 2, 3]));
  const stat = JSON.parse((await troveOk(cwd, ["stat", "--id", id, "--json"])).stdout);
  assertEquals([stat[0].id, stat[0].size, stat[0].path], [id, 5, `/.files/${id}`]);
  await troveOk(cwd, ["delete", "--id", id]);
  assertEquals((await trove(cwd, ["read", "--id", id])).code, 3);
  assertEquals((await trove(cwd, ["read", "--id", "zzz"])).code, 14);
  assertEquals((await trove(cwd, ["write"])).code, 2);

  await troveOk(cwd, ["kv", "set", "config/settings", '{"a":1}']);
  await troveOk(cwd, ["kv", "set", "data/0123abcd", "-"], { input: "from stdin" });
  await troveOk(cwd, ["kv", "set", "data/blob", "--input-file", "in.bin"]);
  assertEquals((await troveOk(cwd, ["kv", "get", "data/0123abcd"])).stdout, "from stdin");
  assertEquals(
    (await troveOk(cwd, ["kv", "get", "data/0123abcd", "--offset", "5", "--length", "5"])).stdout,
    "stdin",
  );
  assertEquals((await troveOk(cwd, ["kv", "ls", "data"])).stdout, "data/0123abcd\ndata/blob\n");
  await troveOk(cwd, ["kv", "rm", "--soft", "data/blob"]);
  const deleted = JSON.parse(
    (await troveOk(cwd, ["kv", "ls", "data", "--deleted", "--json"])).stdout,
  );
  assertEquals(deleted.map((i: { key: string }) => i.key), ["data/blob"]);
  await troveOk(cwd, ["kv", "undelete", "data/blob"]);
  await troveOk(cwd, ["kv", "mv", "data/blob", "archive/blob"]);
  assertEquals(
    JSON.parse((await troveOk(cwd, ["kv", "info", "archive/blob", "--json"])).stdout).size,
    3,
  );
  const stats = JSON.parse((await troveOk(cwd, ["kv", "stats", "--json"])).stdout);
  assertEquals([stats.keys, stats.deleted], [3, 0]);
  assertEquals((await trove(cwd, ["kv", "set", "bad key", "v"])).code, 14);
  assertEquals((await trove(cwd, ["kv", "get", "data/none"])).code, 3);
  assertEquals((await trove(cwd, ["kv", "mv", "config/settings", "archive/blob"])).code, 4);
  assertEquals((await trove(cwd, ["kv", "get", "archive/blob", "--offset", "9"])).code, 14);
  const info = JSON.parse((await troveOk(cwd, ["info", "--json"])).stdout);
  assertEquals(info.store.kvStores.map((k: { name: string }) => k.name), ["default"]);
  assert(typeof info.stats.ops === "object");

  // An encrypted KV store: created sealed under a key file, refused without it.
  await Deno.writeFile(`${cwd}/k.key`, generateKey());
  await troveOk(cwd, ["kv", "--kv", "vault", "--key-file", "k.key", "set", "s/x", "secret"]);
  assertEquals(
    (await troveOk(cwd, ["kv", "--kv", "vault", "--key-file", "k.key", "get", "s/x"])).stdout,
    "secret",
  );
  assertEquals((await trove(cwd, ["kv", "--kv", "vault", "get", "s/x"])).code, 12);
  assertEquals((await trove(cwd, ["kv", "destroy"])).code, 2);
  await troveOk(cwd, ["kv", "destroy", "--yes"]);
  assertEquals(
    JSON.parse((await troveOk(cwd, ["kv", "stores", "--json"])).stdout).map((k: { name: string }) =>
      k.name
    ),
    ["vault"],
  );
  assertEquals((await troveOk(cwd, ["check"])).code, 0);

  // bsfs's spelling of init, then the flat commands on the encrypted volume.
  await Deno.mkdir(`${cwd}/bsfs`);
  const b = `${cwd}/bsfs`;
  await troveOk(b, ["init", "--key-file", "master.key", "--generate-key"]);
  assertEquals((await Deno.stat(`${b}/master.key`)).size, 32);
  const sid = (await troveOk(b, ["--key-file", "master.key", "write", "--data", "sealed"])).stdout
    .trim();
  assertEquals(
    (await troveOk(b, ["--key-file", "master.key", "read", "--id", sid])).stdout,
    "sealed",
  );
  assertEquals((await trove(b, ["read", "--id", sid])).code, 12);
});

Deno.test("check verifies the KV tables and file ids", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/c.trove`;
  {
    await using store = await Store.open(path, { create: true });
    const kv = await store.kv("k");
    await kv.set("a/b", fresh(200_000));
    const vol = await store.volume();
    await vol.writeTextFile("/x", "x");
    await vol.writeTextFile("/y", "y");
  }
  const db = new DatabaseSync(path);
  db.exec(`DELETE FROM kv_extents WHERE idx = 1;
    UPDATE nodes SET uuid = (SELECT uuid FROM nodes WHERE id = 2) WHERE id = 3;`);
  db.close();
  await using store = await Store.open(path);
  const codes = (await store.check()).problems.map((p) => p.code);
  assert(codes.includes("kv-extents"), codes.join());
  assert(codes.includes("refcount") || codes.includes("orphan-chunk"), codes.join());
  assert(codes.includes("node-id"), codes.join());
});

Deno.test("the admin API reports KV stores and the served volumes' statistics", async () => {
  await using s = await testServer();
  const kv = await s.store.kv("cache");
  await kv.set("a/b", "value");
  await kv.get("a/b");
  const put = await s.req("PUT", "/default/f.txt", { body: "12345" });
  assertEquals(put.status, 201);
  await put.body?.cancel();
  const list = await (await s.req("GET", "/.trove/api/kv")).json();
  assertEquals(list.map((k: { name: string; keys: number }) => [k.name, k.keys]), [["cache", 1]]);
  assertEquals(list[0].stats.ops.get.bytesOut, 5);
  const stats = await (await s.req("GET", "/.trove/api/stats")).json();
  assert(stats.volumes.default.total.calls > 0, JSON.stringify(stats.volumes.default));
  assertEquals(stats.volumes.default.ops.writeFile.bytesIn, 5, "a streamed PUT body counts");
  assert(typeof stats.backend.ops === "object");
  const info = await (await s.req("GET", "/.trove/api/volumes/default")).json();
  assert(info.stats.total.calls > 0);
});

Deno.test("pack and unpack carry file ids where the destination has none of them", async () => {
  await using dir = await tempDir();
  await using store = await Store.open(`${dir.path}/a.trove`, { create: true });
  const vol = await store.volume();
  await vol.mkdir("/t");
  const small = await vol.files.write("small");
  await vol.writeFile("/t/big.bin", fresh(9 << 20)); // streamed through the copy
  const big = (await vol.stat("/t/big.bin")).id;
  await vol.rename(`/.files/${small}`, "/t/small.txt");
  await pack(vol, "/t", `${dir.path}/t.pack`);
  await using other = await Store.open(`${dir.path}/b.trove`, { create: true });
  const ov = await other.volume();
  await unpack(`${dir.path}/t.pack`, ov, "/restored");
  assertEquals((await ov.stat("/restored/small.txt")).id, small);
  assertEquals((await ov.stat("/restored/big.bin")).id, big);
  assertEquals(dec.decode(await ov.files.read(small)), "small");
  // Into the store that still has the originals: the copies get new ids.
  await unpack(`${dir.path}/t.pack`, vol, "/again");
  const again = [(await vol.stat("/again/small.txt")).id, (await vol.stat("/again/big.bin")).id];
  assert(again[0] !== small && again[1] !== big, again.join());
  assert((await store.check()).ok && (await other.check()).ok);
});
