import { assert, assertEquals, assertRejects } from "./_assert.ts";
import {
  AlreadyExists,
  InvalidArgument,
  IsADirectory,
  NotFound,
  PermissionDenied,
  SeekMode,
  Store,
} from "../mod.ts";
import { DatabaseSync } from "node:sqlite";
import { randomBytes, sameBytes, tempStore } from "./_helpers.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("open() with Deno options reads, writes, seeks and truncates", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  {
    await using f = await vol.open("/f", { write: true, create: true, read: true });
    assertEquals(await f.write(enc("hello world")), 11);
    assertEquals(await f.seek(6, SeekMode.Start), 6);
    const buf = new Uint8Array(5);
    assertEquals(await f.read(buf), 5);
    assertEquals(dec(buf), "world");
    assertEquals(await f.read(buf), null);
    assertEquals(await f.seek(-5, SeekMode.End), 6);
    await f.write(enc("WORLD"));
    assertEquals(await f.seek(0, SeekMode.Current), 11);
    await f.truncate(5);
    assertEquals((await f.stat()).size, 5);
  }
  assertEquals(await vol.readTextFile("/f"), "hello");
});

Deno.test("open() mode strings r, w, a, x and + behave like Python's", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  await assertRejects(() => vol.open("/missing", "r"), NotFound);
  {
    await using f = await vol.open("/m", "w");
    await f.write(enc("one"));
    await assertRejects(() => f.read(new Uint8Array(1)), PermissionDenied);
  }
  {
    await using f = await vol.open("/m", "a");
    await f.seek(0);
    await f.write(enc("two"));
  }
  assertEquals(await vol.readTextFile("/m"), "onetwo");
  {
    await using f = await vol.open("/m", "r+");
    await f.write(enc("ONE"));
  }
  assertEquals(await vol.readTextFile("/m"), "ONEtwo");
  {
    await using f = await vol.open("/m", "w+");
    assertEquals((await f.stat()).size, 0);
  }
  await assertRejects(() => vol.open("/m", "x"), AlreadyExists);
  {
    await using f = await vol.open("/new", "x+");
    await f.write(enc("fresh"));
    await f.seek(0);
    const b = new Uint8Array(5);
    await f.read(b);
    assertEquals(dec(b), "fresh");
  }
  await assertRejects(() => vol.open("/m", { create: true }), InvalidArgument);
  await assertRejects(() => vol.open("/m", { truncate: true, read: true }), InvalidArgument);
  await vol.mkdir("/dir");
  await assertRejects(() => vol.open("/dir"), IsADirectory);
});

Deno.test("a handle writes past the end sparsely; the hole reads as zeros", async () => {
  await using t = await tempStore({ defaultVolume: { chunkSize: 4096 } });
  const vol = await t.store.volume();
  {
    await using f = await vol.open("/sparse", "w+");
    await f.seek(100_000);
    await f.write(enc("end"));
  }
  const data = await vol.readFile("/sparse");
  assertEquals(data.length, 100_003);
  assert(data.subarray(0, 100_000).every((b) => b === 0));
  assertEquals(dec(data.subarray(100_000)), "end");
  assertEquals((await vol.info()).chunks, 1);
});

Deno.test("a write in the middle of a large file stores only the chunks it touches", async () => {
  await using t = await tempStore({ defaultVolume: { chunkSize: 65536, compression: 0 } });
  const vol = await t.store.volume();
  const data = randomBytes(64 * 65536);
  await vol.writeFile("/big", data);
  const before = await vol.info();
  {
    await using f = await vol.open("/big", "r+");
    await f.seek(10 * 65536 + 100);
    await f.write(enc("patch"));
  }
  const after = await vol.info();
  assertEquals(after.chunks, before.chunks + 1);
  assertEquals(after.storedBytes - before.storedBytes, 65536);
  const back = await vol.readFile("/big");
  data.set(enc("patch"), 10 * 65536 + 100);
  assert(sameBytes(back, data));
});

Deno.test("an open handle keeps working after its path is unlinked, until closed", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  await vol.writeTextFile("/doomed", "still here");
  const f = await vol.open("/doomed", "r+");
  await vol.remove("/doomed", { permanent: true });
  assert(!(await vol.exists("/doomed")));
  const buf = new Uint8Array(10);
  assertEquals(await f.read(buf), 10);
  assertEquals(dec(buf), "still here");
  await f.write(enc(" and more"));
  await f.sync();
  assertEquals((await f.stat()).nlink, 0);
  assertEquals((await f.stat()).size, 19);
  const report = await t.store.check();
  assert(report.ok, JSON.stringify(report.problems));
  await f.close();
  const info = await vol.info();
  assertEquals(info.files, 0);
  assertEquals(info.chunks, 0);
  assert((await t.store.check()).ok);
});

Deno.test("handles of one file share uncommitted writes; isolated handles do not", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  await vol.writeTextFile("/s", "aaaa");
  const w = await vol.open("/s", "r+");
  const r = await vol.open("/s", "r");
  await w.write(enc("bb"));
  assertEquals(dec(await r.readAt(0, 4)), "bbaa");
  assertEquals((await vol.stat("/s")).size, 4);
  const iso = await vol.open("/s", { write: true, read: true, isolated: true });
  await iso.writeAt(0, enc("cccc"));
  assertEquals(dec(await r.readAt(0, 4)), "bbaa");
  await iso.close();
  assertEquals(dec(await vol.readFile("/s")), "bbaa", "shared content holds uncommitted writes");
  await w.close();
  await r.close();
  assertEquals(await vol.readTextFile("/s"), "bbaa");
  const versions = await vol.versions("/s");
  assertEquals(versions.length, 3);
});

Deno.test("readable and writable streams copy a file and close their handles", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  const data = randomBytes(2_500_000);
  const w = await vol.open("/in", "w");
  await ReadableStream.from([data.subarray(0, 1_000_000), data.subarray(1_000_000)]).pipeTo(
    w.writable,
  );
  assert(!w.isOpen);
  const r = await vol.open("/in");
  const out = await vol.open("/out", "w");
  await r.readable.pipeTo(out.writable);
  assert(!r.isOpen && !out.isOpen);
  assert(sameBytes(await vol.readFile("/out"), data));
});

Deno.test("an aborted writable stream leaves the previous version intact", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  await vol.writeTextFile("/keep", "old content");
  const f = await vol.open("/keep", { write: true, truncate: true, isolated: true });
  const writer = f.writable.getWriter();
  await writer.write(randomBytes(3_000_000));
  await writer.abort(new Error("client went away"));
  assertEquals(await vol.readTextFile("/keep"), "old content");
  const report = await t.store.check();
  assert(report.ok && report.pendingWrites === 0, JSON.stringify(report));
});

Deno.test("a closed handle refuses further use", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  const f = await vol.open("/x", "w");
  await f.close();
  await f.close();
  await assertRejects(() => f.write(enc("late")), InvalidArgument);
});

Deno.test("a snapshot handle reads the version current at open while others commit", async () => {
  await using t = await tempStore({ defaultVolume: { chunkSize: 65536 } });
  const vol = await t.store.volume();
  const v1 = randomBytes(300_000, 1);
  await vol.writeFile("/f", v1);
  const snap = await vol.open("/f", { read: true, snapshot: true });
  const first = await snap.readAt(0, 100_000);
  await vol.writeFile("/f", randomBytes(500_000, 2));
  const rest = await snap.readAt(100_000, 1_000_000);
  assertEquals(rest.length, 200_000);
  assert(sameBytes(first, v1.subarray(0, 100_000)) && sameBytes(rest, v1.subarray(100_000)));
  await snap.close();
  await assertRejects(() => vol.open("/f", { write: true, snapshot: true }), InvalidArgument);
});

Deno.test("a close costs no commit: the open mark goes with the next commit or soon after, and an unlink elsewhere meanwhile still frees the file", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  await vol.writeTextFile("/a", "kept until closed");
  const count = (sql: string) => {
    const db = new DatabaseSync(t.path, { readOnly: true });
    try {
      return Number(db.prepare(sql).get()!.n);
    } finally {
      db.close();
    }
  };
  const marks = () => count("SELECT COUNT(*) AS n FROM opens");
  const unlinked = () => count("SELECT COUNT(*) AS n FROM nodes WHERE nlink = 0");
  await using other = await Store.open(t.path);
  const there = await other.volume();
  // Closed, but its mark stands until a commit carries it: a reopen finds it.
  const f = await vol.open("/a", "r");
  await f.close();
  assertEquals(marks(), 1);
  const g = await vol.open("/a", "r");
  await g.close();
  // Another store unlinks it meanwhile: the mark keeps the node for now.
  await there.remove("/a", { permanent: true });
  assertEquals(unlinked(), 1);
  // The next commit here drops the mark, and the node with it.
  await vol.writeTextFile("/b", "b");
  assertEquals(marks(), 0);
  assertEquals(unlinked(), 0);
  assert((await t.store.check()).ok);
  // With no commit to carry it, a close's mark goes within a moment.
  const h = await vol.open("/b", "r");
  await h.close();
  assertEquals(marks(), 1);
  await new Promise((r) => setTimeout(r, 400));
  assertEquals(marks(), 0);
});
