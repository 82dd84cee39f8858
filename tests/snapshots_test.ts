/**
 * Snapshots and the trash through the library, the CLI and WebDAV: a
 * snapshot costs metadata only and reads as the volume was; restore,
 * diff, removal and gc; the trash keeps what remove takes away until it
 * is undeleted, emptied, expired, capped or needed for room.
 */

import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { trove, troveOk } from "./_cli.ts";
import { randomBytes, tempDir } from "./_helpers.ts";
import { testServer } from "./_dav.ts";
import {
  AlreadyExists,
  InvalidArgument,
  ManualClock,
  NameTooLong,
  NotFound,
  ReadOnly,
  Store,
} from "../mod.ts";

const enc = new TextEncoder();

/** Bytes no other call returns (randomBytes repeats itself, and would dedup). */
function fresh(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

Deno.test("a snapshot reads as the volume was, shares every chunk and survives retention", async () => {
  await using dir = await tempDir();
  await using store = await Store.open(`${dir.path}/s.trove`, { create: true });
  await store.setVolumeOptions("default", { keepVersions: 1 });
  const vol = await store.volume();
  await vol.mkdir("/docs/deep", { recursive: true });
  const big = fresh(1 << 20);
  await vol.writeFile("/docs/big.bin", big);
  await vol.writeTextFile("/docs/deep/a.txt", "then");
  await vol.symlink("deep/a.txt", "/docs/link");
  await vol.setXattr("/docs/deep/a.txt", "user.tag", "x");
  const before = (await vol.info()).storedBytes;
  await vol.createSnapshot("monday");
  assertEquals((await vol.info()).storedBytes, before); // no content byte copied
  await vol.writeTextFile("/docs/deep/a.txt", "now");
  await vol.writeFile("/docs/big.bin", fresh(1 << 20)); // keepVersions 1 drops the old one
  await vol.remove("/docs/link", { permanent: true });
  const snap = await vol.snapshot("monday");
  assert(snap.readOnly);
  assertEquals(await snap.readTextFile("/docs/deep/a.txt"), "then");
  assertEquals((await snap.readFile("/docs/big.bin")).length, big.length);
  assert((await snap.readFile("/docs/big.bin")).every((b, i) => b === big[i]));
  assertEquals(await snap.readLink("/docs/link"), "deep/a.txt");
  assertEquals(new TextDecoder().decode(await snap.getXattr("/docs/deep/a.txt", "user.tag")), "x");
  const walked = [];
  for await (const e of snap.walk("/")) walked.push(e.path);
  assertEquals(walked.sort(), [
    "/",
    "/docs",
    "/docs/big.bin",
    "/docs/deep",
    "/docs/deep/a.txt",
    "/docs/link",
  ]);
  assertEquals((await Array.fromAsync(snap.glob("**/*.txt"))).map((e) => e.path), [
    "/docs/deep/a.txt",
  ]);
  assert(!("versions" in snap));
  await assertRejects(() => snap.writeTextFile("/x", "x"), ReadOnly);
  await assertRejects(() => snap.remove("/docs", { recursive: true }), ReadOnly);
  await assertRejects(() => snap.open("/docs/deep/a.txt", "w"), ReadOnly);
  const [info] = await vol.snapshots();
  assertEquals([info.name, info.files], ["monday", 2]);
  assert(info.bytes >= big.length, String(info.bytes)); // only the snapshot holds the old big.bin
  assertEquals((await vol.info()).snapshotBytes, info.bytes);
  assertEquals((await store.check({ verify: true })).problems, []);
  // Removing it frees what only it held.
  await vol.removeSnapshot("monday");
  await store.gc();
  assert((await vol.info()).storedBytes < before, "the old big.bin is gone");
  assertEquals((await store.check()).problems, []);
});

Deno.test("restore brings back the volume or one subtree; what it replaces stays as versions", async () => {
  await using store = await Store.open(":memory:", { create: true });
  const vol = await store.volume();
  await vol.mkdir("/a/b", { recursive: true });
  await vol.writeTextFile("/a/b/f.txt", "good");
  await vol.writeTextFile("/a/g.txt", "keep");
  await vol.writeTextFile("/top.txt", "top");
  await vol.chmod("/a/b/f.txt", 0o600);
  await vol.createSnapshot("s");
  await vol.writeTextFile("/a/b/f.txt", "bad");
  await vol.chmod("/a/b/f.txt", 0o644);
  await vol.writeTextFile("/a/b/junk", "junk");
  await vol.remove("/a/g.txt");
  await vol.writeTextFile("/top.txt", "changed");
  assertEquals((await vol.diffSnapshots("s")).map((c) => `${c.change} ${c.path}`), [
    "M /a/b/f.txt",
    "+ /a/b/junk",
    "- /a/g.txt",
    "M /top.txt",
  ]);
  const r = await vol.restoreSnapshot("s", { path: "/a" });
  assertEquals(r, { restored: 1, created: 1, removed: 1 });
  assertEquals(await vol.readTextFile("/a/b/f.txt"), "good");
  assertEquals((await vol.stat("/a/b/f.txt")).mode & 0o777, 0o600);
  assertEquals(await vol.readTextFile("/a/g.txt"), "keep");
  assertEquals(await vol.exists("/a/b/junk"), false);
  assertEquals(await vol.readTextFile("/top.txt"), "changed"); // outside the path
  assertEquals((await vol.versions("/a/b/f.txt")).length, 3);
  assert((await vol.trash()).some((e) => e.path === "/a/b/junk")); // removed to the trash
  assertEquals((await vol.diffSnapshots("s")).map((c) => c.path), ["/top.txt"]);
  await vol.restoreSnapshot("s");
  assertEquals(await vol.diffSnapshots("s"), []);
  assertEquals((await store.check()).problems, []);
});

Deno.test("snapshots of encrypted volumes; bad snapshot requests change nothing", async () => {
  await using store = await Store.open(":memory:", { create: true });
  const vol = await store.createVolume("vault", {
    passphrase: "pw",
    kdf: { memoryKiB: 1024, iterations: 1 },
  });
  await vol.mkdir("/s");
  await vol.writeTextFile("/s/secret.txt", "sealed");
  await vol.symlink("secret.txt", "/s/l");
  await vol.createSnapshot("one");
  await vol.writeTextFile("/s/secret.txt", "resealed");
  const snap = await vol.snapshot("one");
  assertEquals(await snap.readTextFile("/s/l"), "sealed");
  await assertRejects(() => vol.createSnapshot("one"), AlreadyExists);
  await assertRejects(() => vol.createSnapshot("a/b"), InvalidArgument);
  await assertRejects(() => vol.createSnapshot("x".repeat(256)), NameTooLong);
  await assertRejects(() => vol.snapshot("nope"), NotFound);
  await assertRejects(() => vol.removeSnapshot("nope"), NotFound);
  await assertRejects(() => vol.restoreSnapshot("one", { path: "/missing" }), NotFound);
  assertEquals((await vol.snapshots()).length, 1);
  // Snapshots are no volumes: not listed, not opened by name.
  assertEquals((await store.volumes()).map((v) => v.name).sort(), ["default", "vault"]);
  assertEquals((await store.check()).problems, []);
  await store.removeVolume("vault");
  assertEquals((await store.check()).problems, []);
});

Deno.test("the trash: undelete, a taken path, emptying, expiry by gc, the size cap, room for writes", async () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  await using dir = await tempDir();
  await using store = await Store.open(`${dir.path}/t.trove`, { create: true, clock });
  const vol = await store.volume();
  await vol.mkdir("/p/q", { recursive: true });
  await vol.writeTextFile("/p/q/f", "12345");
  await vol.writeTextFile("/g", "g");
  await vol.remove("/p", { recursive: true });
  await vol.remove("/g");
  assertEquals((await vol.trash()).map((e) => [e.path, e.kind, e.size]), [
    ["/p", "directory", 5],
    ["/g", "file", 1],
  ]);
  await vol.writeTextFile("/g", "new g");
  await assertRejects(() => vol.undelete("/g"), AlreadyExists);
  assertEquals(await vol.readTextFile("/g"), "new g");
  assertEquals(await vol.undelete("/g", { to: "/old/g" }), "/old/g");
  assertEquals(await vol.readTextFile("/old/g"), "g");
  await vol.undelete((await vol.trash())[0].id);
  assertEquals(await vol.readTextFile("/p/q/f"), "12345");
  await assertRejects(() => vol.undelete("/p"), NotFound);
  assertEquals((await store.check()).problems, []);

  // Retention: gc purges what passed it.
  await vol.setTrash({ retentionDays: 1 });
  await vol.remove("/p", { recursive: true });
  clock.advance(2 * 24 * 3600 * 1000);
  await vol.remove("/g");
  assertEquals((await store.gc()).trashPurged, 1);
  assertEquals((await vol.trash()).map((e) => e.path), ["/g"]);

  // A cap: the oldest go first.
  await vol.setTrash({ maxBytes: 10_000 });
  for (const n of ["a", "b", "c"]) {
    await vol.writeFile(`/${n}`, randomBytes(4_000));
    await vol.remove(`/${n}`);
  }
  assertEquals((await vol.trash()).map((e) => e.path), ["/b", "/c"]);

  // A full volume takes room from the trash, oldest first.
  await vol.setTrash({ maxBytes: null });
  await vol.emptyTrash();
  await store.setVolumeOptions("default", { capacity: 3 << 20 });
  await vol.writeFile("/big1", fresh(2 << 20));
  await vol.remove("/big1");
  await vol.writeFile("/big2", fresh(2 << 20));
  assertEquals(await vol.trash(), []);
  assertEquals((await store.check({ verify: true })).problems, []);
  // Off: remove deletes at once.
  await vol.setTrash({ enabled: false });
  await vol.remove("/big2");
  assertEquals(await vol.trash(), []);
});

Deno.test("WebDAV serves /.snapshots/ and /.trash/ read-only; DELETE goes to the trash", async () => {
  await using server = await testServer();
  const vol = await server.store.volume();
  await vol.writeTextFile("/doc.txt", "v1");
  await vol.createSnapshot("first");
  await vol.writeTextFile("/doc.txt", "v2");
  const req = async (
    m: string,
    p: string,
    init: RequestInit & { headers?: Record<string, string> } = {},
  ) => {
    const r = await server.req(m, p, init);
    return [r.status, await r.text()] as const;
  };
  const [s1, list] = await req("PROPFIND", "/default/.snapshots/", { headers: { Depth: "1" } });
  assertEquals(s1, 207);
  assert(list.includes("/default/.snapshots/first/"), list);
  assertEquals(await req("GET", "/default/.snapshots/first/doc.txt"), [200, "v1"]);
  assertEquals((await req("PUT", "/default/.snapshots/first/doc.txt", { body: "x" }))[0], 403);
  assertEquals((await req("DELETE", "/default/.snapshots/first/doc.txt"))[0], 403);
  assertEquals((await req("MKCOL", "/default/.snapshots/first/new/"))[0], 403);
  assertEquals((await req("GET", "/default/.snapshots/nope/doc.txt"))[0], 404);
  assertEquals((await req("DELETE", "/default/doc.txt"))[0], 204);
  const [entry] = await vol.trash();
  assertEquals(entry.path, "/doc.txt");
  assertEquals(await req("GET", `/default/.trash/${encodeURIComponent(entry.name)}`), [200, "v2"]);
  assertEquals((await req("DELETE", `/default/.trash/${encodeURIComponent(entry.name)}`))[0], 403);
  await vol.undelete("/doc.txt");
  assertEquals(await req("GET", "/default/doc.txt"), [200, "v2"]);
});

Deno.test("CLI: snapshot create|list|diff|restore|rm, --snapshot on reading commands, trash, rm --permanent", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  await troveOk(d, ["init"]);
  await troveOk(d, ["put", "-", "/a.txt"], { input: enc.encode("first") });
  assertEquals((await troveOk(d, ["snapshot", "create", "s1"])).stdout.trim(), "s1");
  await troveOk(d, ["put", "-", "/a.txt"], { input: enc.encode("second") });
  await troveOk(d, ["put", "-", "/b.txt"], { input: enc.encode("b") });
  assertEquals((await troveOk(d, ["cat", "--snapshot", "s1", "/a.txt"])).stdout, "first");
  assertEquals((await troveOk(d, ["ls", "--snapshot", "s1", "/"])).stdout.trim(), "a.txt");
  assertEquals((await troveOk(d, ["find", "--snapshot", "s1"])).stdout.trim(), "/\n/a.txt");
  assertEquals((await troveOk(d, ["snapshot", "diff", "s1"])).stdout, "M\t/a.txt\n+\t/b.txt\n");
  const listed = JSON.parse((await troveOk(d, ["snapshot", "list", "--json"])).stdout);
  assertEquals(listed.map((s: { name: string }) => s.name), ["s1"]);
  await troveOk(d, ["get", "--snapshot", "s1", "/a.txt", "out.txt"]);
  assertEquals(await Deno.readTextFile(`${d}/out.txt`), "first");
  assertEquals((await trove(d, ["snapshot", "create", "s1"])).code, 4);
  assertEquals((await trove(d, ["cat", "--snapshot", "nope", "/a.txt"])).code, 3);
  await troveOk(d, ["snapshot", "restore", "s1"]);
  assertEquals((await troveOk(d, ["cat", "/a.txt"])).stdout, "first");
  await troveOk(d, ["rm", "/a.txt"]);
  await troveOk(d, ["put", "-", "/c.txt"], { input: enc.encode("c") });
  await troveOk(d, ["rm", "--permanent", "/c.txt"]);
  const trash = JSON.parse((await troveOk(d, ["trash", "ls", "--json"])).stdout);
  // The restore took /b.txt away (to the trash), then rm took /a.txt.
  assertEquals(trash.map((e: { path: string }) => e.path), ["/b.txt", "/a.txt"]);
  await troveOk(d, ["trash", "restore", "/a.txt"]);
  assertEquals((await troveOk(d, ["cat", "/a.txt"])).stdout, "first");
  await troveOk(d, ["snapshot", "rm", "s1"]);
  assertEquals((await troveOk(d, ["snapshot", "list"])).stdout.trim().split("\n").length, 1);
  assertEquals(
    (await troveOk(d, ["trash", "set", "--days", "7", "--max", "1M"])).stdout.trim(),
    "trash on; kept 7 days; cap 1.00 MiB",
  );
  assertEquals((await troveOk(d, ["check"])).code, 0);
});
