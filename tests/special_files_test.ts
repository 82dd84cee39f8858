/**
 * The engine's POSIX node rules, through the library: special files
 * (FIFOs, sockets, devices), set-group-ID directories, name lengths on
 * lookup, the hard-link limit, and one version per truncating open.
 */

import { assert, assertEquals, assertRejects } from "./_assert.ts";
import {
  InvalidArgument,
  NameTooLong,
  NotADirectory,
  NotFound,
  Store,
  TooManyLinks,
} from "../mod.ts";

Deno.test("special files: made, listed, renamed, linked and removed like files; never opened", async () => {
  await using store = await Store.open(":memory:", { create: true });
  const vol = await store.volume();
  await vol.mknod("/fifo", { kind: "fifo", mode: 0o600 });
  await vol.mknod("/sock", { kind: "socket" });
  await vol.mknod("/tty", { kind: "charDevice", rdev: (4 << 8) | 1 });
  await vol.mknod("/sda", { kind: "blockDevice", mode: 0o660, rdev: (8 << 8) | 0 });
  const fifo = await vol.lstat("/fifo");
  assert(fifo.isFifo && !fifo.isFile && !fifo.isDirectory && !fifo.isSymlink);
  assertEquals(fifo.mode, 0o010600);
  assertEquals([fifo.size, fifo.rdev, fifo.version, fifo.digest], [0, 0, null, null]);
  assert((await vol.lstat("/sock")).isSocket);
  const tty = await vol.lstat("/tty");
  assert(tty.isCharDevice && tty.rdev === 0x401 && tty.mode === 0o020644);
  assert((await vol.lstat("/sda")).isBlockDevice);
  const names = [];
  for await (const e of vol.readDir("/")) {
    names.push(`${e.name}:${e.isFile}${e.isDirectory}${e.isSymlink}`);
  }
  assertEquals(names.sort(), [
    "fifo:falsefalsefalse",
    "sda:falsefalsefalse",
    "sock:falsefalsefalse",
    "tty:falsefalsefalse",
  ]);
  await vol.rename("/fifo", "/queue");
  await vol.link("/queue", "/queue2");
  assertEquals((await vol.lstat("/queue2")).nlink, 2);
  await vol.copy("/tty", "/tty2");
  assertEquals((await vol.lstat("/tty2")).rdev, 0x401);
  await assertRejects(() => vol.readFile("/queue"), InvalidArgument);
  await assertRejects(() => vol.open("/tty", "r"), InvalidArgument);
  await assertRejects(() => vol.writeFile("/sock", new Uint8Array(1)), InvalidArgument);
  await assertRejects(
    () => vol.mknod("/x", { kind: "file" as "fifo" }),
    InvalidArgument,
  );
  await assertRejects(() => vol.mknod("/queue", { kind: "fifo" }), Error);
  await assertRejects(() => vol.versions("/queue"), Error); // no content, no versions
  await vol.remove("/queue");
  await vol.remove("/queue2");
  assertEquals(await vol.exists("/queue2"), false);
  assertEquals((await store.check()).problems, []);
});

Deno.test("a set-group-ID directory gives new entries its group, and new directories the bit", async () => {
  await using store = await Store.open(":memory:", { create: true });
  const vol = await store.volume();
  const root = vol.nodes.rootIno;
  const dir = await vol.nodes.create(root, "shared", { kind: "directory", mode: 0o2775, gid: 500 });
  const file = await vol.nodes.create(dir.ino, "f", { kind: "file", uid: 7, gid: 7 });
  assertEquals([file.uid, file.gid], [7, 500]);
  const sub = await vol.nodes.create(dir.ino, "sub", { kind: "directory", mode: 0o755, gid: 7 });
  assertEquals([sub.gid, sub.mode & 0o7777], [500, 0o2755]);
  const fifo = await vol.nodes.create(sub.ino, "p", { kind: "fifo", gid: 7 });
  assertEquals(fifo.gid, 500);
  // Elsewhere the creator's group stands.
  const plain = await vol.nodes.create(root, "g", { kind: "file", gid: 7 });
  assertEquals(plain.gid, 7);
  // A copy keeps its source's group and mode.
  await vol.copy("/g", "/shared/g");
  assertEquals((await vol.lstat("/shared/g")).gid, 7);
});

Deno.test("lookups of over-long names are NameTooLong, not NotFound", async () => {
  await using store = await Store.open(":memory:", { create: true });
  const vol = await store.volume();
  await assertRejects(() => vol.nodes.lookup(vol.nodes.rootIno, "x".repeat(256)), NameTooLong);
  await vol.writeTextFile(`/${"y".repeat(255)}`, "ok");
  assert((await vol.nodes.lookup(vol.nodes.rootIno, "y".repeat(255))).isFile);
});

Deno.test("a lookup by inode sees only its own volume's directories", async () => {
  await using store = await Store.open(":memory:", { create: true });
  const a = await store.volume();
  const b = await store.createVolume("other");
  await a.mkdir("/d");
  await a.writeTextFile("/d/f", "a's");
  const d = await a.lstat("/d");
  assert((await a.nodes.find(d.ino, "f"))?.isFile);
  // Another volume's directory inode is no directory here, hit or miss.
  await assertRejects(() => b.nodes.find(d.ino, "f"), NotFound);
  await assertRejects(() => b.nodes.find(d.ino, "missing"), NotFound);
  const f = await a.lstat("/d/f");
  await assertRejects(() => a.nodes.find(f.ino, "x"), NotADirectory);
  assertEquals(await a.nodes.find(d.ino, "missing"), null);
});

Deno.test("a file takes at most 65,000 hard links (EMLINK past that)", async () => {
  await using store = await Store.open(":memory:", { create: true });
  const vol = await store.volume();
  const dir = await vol.nodes.create(vol.nodes.rootIno, "d", "directory");
  const f = await vol.nodes.create(dir.ino, "f", "file");
  await vol.batch(async () => {
    for (let i = 1; i < 65000; i++) await vol.nodes.link(f.ino, { dir: dir.ino, name: `l${i}` });
  });
  assertEquals((await vol.nodes.stat(f.ino)).nlink, 65000);
  await assertRejects(
    () => vol.nodes.link(f.ino, { dir: dir.ino, name: "one-more" }),
    TooManyLinks,
  );
});

Deno.test("a truncating open commits once, with its writes, when flushed ifWritten", async () => {
  await using store = await Store.open(":memory:", { create: true });
  const vol = await store.volume();
  await vol.writeTextFile("/f", "old");
  const h = await vol.open("/f", { write: true, truncate: true });
  assertEquals(await h.flush({ ifWritten: true }), null);
  assertEquals((await vol.stat("/f")).size, 0); // this process sees the truncation at once
  await h.write(new TextEncoder().encode("new"));
  assertEquals(await h.flush({ ifWritten: true }), 2);
  assertEquals(await h.flush({ ifWritten: true }), null);
  await h.close();
  assertEquals((await vol.versions("/f")).map((v) => v.size), [3, 3]);
  // A truncation alone commits when the handle closes.
  const t = await vol.open("/f", { write: true, truncate: true });
  assertEquals(await t.flush({ ifWritten: true }), null);
  await t.close();
  assertEquals((await vol.versions("/f")).map((v) => v.size), [0, 3, 3]); // newest first
});
