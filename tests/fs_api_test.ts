import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { DatabaseSync } from "node:sqlite";
import {
  AlreadyExists,
  Corrupt,
  FilesystemLoop,
  InvalidArgument,
  IsADirectory,
  NotADirectory,
  NotEmpty,
  NotFound,
  PermissionDenied,
  Store,
} from "../mod.ts";
import { randomBytes, sameBytes, tempStore } from "./_helpers.ts";

Deno.test("writeFile() then readFile() returns the same bytes, small and large", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  const small = new TextEncoder().encode("hello");
  await vol.writeFile("/small.txt", small);
  assert(sameBytes(await vol.readFile("/small.txt"), small));
  const large = randomBytes(3 * vol.chunkSize + 12345);
  await vol.writeFile("/large.bin", large);
  assert(sameBytes(await vol.readFile("/large.bin"), large));
  await vol.writeFile("/empty", new Uint8Array());
  assertEquals((await vol.readFile("/empty")).length, 0);
});

Deno.test("writeFile() accepts a ReadableStream", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  const parts = [randomBytes(700_000, 1), randomBytes(900_000, 2), randomBytes(5, 3)];
  const stream = ReadableStream.from(parts);
  await vol.writeFile("/streamed", stream);
  const back = await vol.readFile("/streamed");
  assertEquals(back.length, 1_600_005);
  assert(sameBytes(back.subarray(700_000, 1_600_000), parts[1]));
});

Deno.test("writeFile() honours append, create and createNew", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  await vol.writeTextFile("/log", "a");
  await vol.writeTextFile("/log", "b", { append: true });
  assertEquals(await vol.readTextFile("/log"), "ab");
  await assertRejects(() => vol.writeTextFile("/nope", "x", { create: false }), NotFound);
  await assertRejects(() => vol.writeTextFile("/log", "x", { createNew: true }), AlreadyExists);
  assertEquals(await vol.readTextFile("/log"), "ab");
});

Deno.test("writeFile() with mtime records that time in the same commit, any size", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  const at = new Date("2003-04-05T06:07:08.009Z");
  const bodies = {
    "/small": randomBytes(100, 1),
    "/large": randomBytes(2 * vol.chunkSize + 1, 2),
    "/empty": new Uint8Array(),
  };
  for (const [path, data] of Object.entries(bodies)) {
    await vol.writeFile(path, data, { mtime: at });
    assertEquals((await vol.stat(path)).mtime.getTime(), at.getTime(), path);
    assert(sameBytes(await vol.readFile(path), data), path);
  }
  await vol.writeFile("/streamed", ReadableStream.from([randomBytes(10, 3)]), { mtime: 1e9 });
  assertEquals((await vol.stat("/streamed")).mtime.getTime(), 1e12);
  // Overwriting with a time sets it again; without one, the write's own time.
  await vol.writeFile("/small", randomBytes(5, 4), { mtime: 2e9 });
  assertEquals((await vol.stat("/small")).mtime.getTime(), 2e12);
  const before = Date.now();
  await vol.writeFile("/small", randomBytes(5, 5));
  assert((await vol.stat("/small")).mtime.getTime() >= before - 1000);
  // A time that is not one is refused before anything is written.
  await assertRejects(
    () => vol.writeFile("/bad", new Uint8Array(1), { mtime: NaN }),
    InvalidArgument,
  );
  assertEquals(await vol.exists("/bad"), false);
});

Deno.test("statAndRead() gives a small file's metadata and bytes together, and only metadata otherwise", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  const small = randomBytes(3000, 4);
  const apart = randomBytes(40_000, 5);
  const big = randomBytes(vol.chunkSize + 10, 6);
  await vol.writeFile("/small", small);
  await vol.writeFile("/apart", apart);
  await vol.writeFile("/big", big);
  await vol.symlink("small", "/link");
  const max = { maxBytes: 64 << 10 };
  for (const [path, bytes] of [["/small", small], ["/apart", apart], ["/link", small]] as const) {
    const { info, data } = await vol.statAndRead(path, max);
    assertEquals(info, await vol.stat(path));
    assert(data !== null && sameBytes(data, bytes), path);
  }
  // Over the limit, a directory: metadata alone.
  const b = await vol.statAndRead("/big", max);
  assertEquals([b.info.size, b.data], [big.length, null]);
  assertEquals((await vol.statAndRead("/big", { maxBytes: big.length })).data?.length, big.length);
  const d = await vol.statAndRead("/", max);
  assert(d.info.isDirectory && d.data === null);
  await assertRejects(() => vol.statAndRead("/missing", max), NotFound);
  // What a handle here wrote but did not commit: the size and the bytes agree.
  {
    await using f = await vol.open("/small", "r+");
    await f.writeAt(3000, new Uint8Array([9, 9]));
    const { info, data } = await vol.statAndRead("/small", max);
    assertEquals([info.size, data?.length, data?.[3001]], [3002, 3002, 9]);
  }
});

Deno.test("repeated reads come from the read cache and never miss a change", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  const max = { maxBytes: 64 << 10 };
  const enc = (s: string) => new TextEncoder().encode(s);
  const text = async (path: string) => new TextDecoder().decode(await vol.readFile(path));
  await vol.mkdir("/d");
  await vol.writeFile("/d/a", enc("one"));
  // Read twice (the second from the cache): what a caller gets is its own copy.
  for (let i = 0; i < 2; i++) {
    const { info, data } = await vol.statAndRead("/d/a", max);
    assertEquals([info.size, new TextDecoder().decode(data!)], [3, "one"]);
    data![0] = 88;
    info.size = 99;
    info.mtime.setTime(0);
    (await vol.readFile("/d/a"))[1] = 88;
  }
  assertEquals([await text("/d/a"), (await vol.stat("/d/a")).size], ["one", 3]);
  assert((await vol.stat("/d/a")).mtime.getTime() > 0);

  // Every kind of change through this store shows at once.
  await vol.writeFile("/d/a", enc("two!"));
  assertEquals([await text("/d/a"), (await vol.stat("/d/a")).size], ["two!", 4]);
  await vol.chmod("/d/a", 0o600);
  assertEquals((await vol.stat("/d/a")).mode & 0o777, 0o600);
  await vol.rename("/d", "/e");
  await assertRejects(() => vol.stat("/d/a"), NotFound);
  await assertRejects(() => vol.statAndRead("/d/a", max), NotFound);
  assertEquals(await text("/e/a"), "two!");
  await vol.remove("/e/a");
  await assertRejects(() => vol.readFile("/e/a"), NotFound);

  // Another connection's commit (what another process does) shows at once.
  await vol.writeFile("/b", enc("mine"));
  assertEquals(await text("/b"), "mine");
  {
    await using other = await Store.open(t.path);
    await (await other.volume()).writeFile("/b", enc("theirs"));
  }
  assertEquals(await text("/b"), "theirs");
  assertEquals((await vol.statAndRead("/b", max)).info.size, 6);

  // A batch sees its own uncommitted writes; after it rolls back, nothing of them is served.
  assertEquals(await text("/b"), "theirs");
  await assertRejects(() =>
    vol.batch(async () => {
      await vol.writeFile("/b", enc("in the batch"));
      assertEquals(await text("/b"), "in the batch");
      assertEquals((await vol.stat("/b")).size, 12);
      throw new Error("roll back");
    })
  );
  assertEquals([await text("/b"), (await vol.stat("/b")).size], ["theirs", 6]);

  // An open handle's write that is not committed yet: stat, statAndRead and readFile agree with it.
  assertEquals((await vol.stat("/b")).size, 6);
  {
    await using f = await vol.open("/b", "r+");
    for (const [at, size, bytes] of [[6, 7, "theirs+"], [7, 8, "theirs++"]] as const) {
      await f.writeAt(at, enc("+"));
      assertEquals((await vol.stat("/b")).size, size);
      assertEquals((await vol.statAndRead("/b", max)).data?.length, size);
      assertEquals(await text("/b"), bytes);
    }
  }
  assertEquals([await text("/b"), (await vol.stat("/b")).size], ["theirs++", 8]);
});

Deno.test("readFile() of small files: holes, open handles' writes, damage named", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  const inline = randomBytes(3000, 1); // stored in the chunk row
  const apart = randomBytes(40_000, 2); // stored beside it
  await vol.writeFile("/inline", inline);
  await vol.writeFile("/apart", apart);
  assert(sameBytes(await vol.readFile("/inline"), inline));
  assert(sameBytes(await vol.readFile("/apart"), apart));
  // A file grown by truncate has no chunk: zeros.
  await vol.writeFile("/hole", new Uint8Array());
  await vol.truncate("/hole", 5000);
  assert(sameBytes(await vol.readFile("/hole"), new Uint8Array(5000)));
  // What a handle here wrote but did not commit is what readFile sees.
  {
    await using f = await vol.open("/inline", "r+");
    await f.write(new Uint8Array([7, 7, 7]));
    assert(
      sameBytes(
        (await vol.readFile("/inline")).subarray(0, 4),
        new Uint8Array([7, 7, 7, inline[3]]),
      ),
    );
  }
  // A flipped byte in either kind of stored chunk is Corrupt, naming the file.
  await t.store.close();
  const raw = new DatabaseSync(t.path);
  for (
    const sql of [
      "UPDATE chunks SET data = ? WHERE id = ?",
      "UPDATE chunk_data SET data = ? WHERE id = ?",
    ]
  ) {
    const table = sql.split(" ")[1];
    const row = raw.prepare(
      `SELECT id, data FROM ${table} WHERE data IS NOT NULL ORDER BY id DESC LIMIT 1`,
    )
      .get() as { id: number; data: Uint8Array };
    const data = new Uint8Array(row.data);
    data[10] ^= 1;
    raw.prepare(sql).run(data, row.id);
  }
  raw.close();
  await using again = await Store.open(t.path);
  const v2 = await again.volume();
  for (const path of ["/inline", "/apart"]) {
    const e = await assertRejects(() => v2.readFile(path), Corrupt);
    assert((e as Error).message.endsWith(path), (e as Error).message);
  }
});

Deno.test("stat() and lstat() describe files, directories and symlinks like Deno.FileInfo", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  await vol.mkdir("/d");
  await vol.writeTextFile("/d/f", "12345");
  await vol.symlink("/d/f", "/link");
  const f = await vol.stat("/link");
  assert(f.isFile && !f.isSymlink);
  assertEquals(f.size, 5);
  assertEquals(f.mode & 0o170000, 0o100000);
  assertEquals(f.nlink, 1);
  const l = await vol.lstat("/link");
  assert(l.isSymlink && !l.isFile);
  assertEquals(l.size, "/d/f".length);
  const d = await vol.stat("/d");
  assert(d.isDirectory);
  assertEquals(d.nlink, 2);
  assertEquals((await vol.stat("/")).nlink, 3);
  assert(f.mtime instanceof Date && f.mtimeNs > 0n);
});

Deno.test("readDir() lists entries in name order, in pages for big directories", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  await vol.mkdir("/many");
  await vol.batch(async () => {
    for (let i = 0; i < 1200; i++) {
      await vol.writeTextFile(`/many/f${String(i).padStart(4, "0")}`, "x");
    }
  });
  const names: string[] = [];
  for await (const e of vol.readDir("/many")) names.push(e.name);
  assertEquals(names.length, 1200);
  assertEquals(names[0], "f0000");
  assertEquals(names[1199], "f1199");
  assertEquals([...names].sort(), names);
});

Deno.test("mkdir() with recursive creates parents and tolerates existing directories", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  await vol.mkdir("/a/b/c", { recursive: true });
  await vol.mkdir("/a/b/c", { recursive: true });
  assert((await vol.stat("/a/b/c")).isDirectory);
  await assertRejects(() => vol.mkdir("/a"), AlreadyExists);
  await assertRejects(() => vol.mkdir("/x/y"), NotFound);
  await vol.writeTextFile("/a/file", "");
  await assertRejects(() => vol.mkdir("/a/file/sub", { recursive: true }), AlreadyExists);
});

Deno.test("remove() deletes files and empty directories, trees only with recursive", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  await vol.mkdir("/t/u", { recursive: true });
  await vol.writeTextFile("/t/u/f", "x");
  await assertRejects(() => vol.remove("/t"), NotEmpty);
  assert(await vol.exists("/t/u/f"));
  await vol.remove("/t", { recursive: true });
  assert(!(await vol.exists("/t")));
  await assertRejects(() => vol.remove("/t"), NotFound);
  // The tree went to the trash; emptied, nothing of it is left.
  assertEquals((await vol.trash()).map((e) => e.path), ["/t"]);
  assertEquals(await vol.emptyTrash(), 1);
  await assertRejects(() => vol.remove("/"), InvalidArgument);
  const report = await t.store.check();
  assert(report.ok, JSON.stringify(report.problems));
  assertEquals((await vol.info()).chunks, 0);
});

Deno.test("rename() moves entries and replaces like POSIX", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  await vol.mkdir("/a");
  await vol.mkdir("/b");
  await vol.writeTextFile("/a/one", "1");
  await vol.writeTextFile("/b/two", "2");
  await vol.rename("/a/one", "/b/two");
  assertEquals(await vol.readTextFile("/b/two"), "1");
  assert(!(await vol.exists("/a/one")));
  await vol.mkdir("/a/sub");
  await vol.rename("/a/sub", "/b/sub");
  assertEquals((await vol.stat("/a")).nlink, 2);
  assertEquals((await vol.stat("/b")).nlink, 3);
  await vol.mkdir("/empty");
  await vol.rename("/b/sub", "/empty");
  assert((await vol.stat("/empty")).isDirectory);
  await assertRejects(() => vol.rename("/b/two", "/empty"), IsADirectory);
  await assertRejects(() => vol.rename("/empty", "/b/two"), NotADirectory);
  await vol.writeTextFile("/empty/x", "x");
  await vol.mkdir("/full");
  await vol.writeTextFile("/full/y", "y");
  await assertRejects(() => vol.rename("/empty", "/full"), NotEmpty);
  await assertRejects(() => vol.rename("/b", "/b/inner"), InvalidArgument);
  await assertRejects(() => vol.rename("/b/two", "/empty/x", { noReplace: true }), AlreadyExists);
  await vol.rename("/b/two", "/empty/x", { exchange: true });
  assertEquals(await vol.readTextFile("/b/two"), "x");
  assertEquals(await vol.readTextFile("/empty/x"), "1");
  // Exchanging a directory and a file in one directory keeps its link count.
  await vol.mkdir("/ex/d", { recursive: true });
  await vol.writeTextFile("/ex/f", "f");
  await vol.rename("/ex/d", "/ex/f", { exchange: true });
  assertEquals((await vol.stat("/ex")).nlink, 3);
  assert((await vol.stat("/ex/f")).isDirectory);
  assert((await t.store.check()).ok);
});

Deno.test("copyFile() shares chunks and copies permissions", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  await vol.writeFile("/src", randomBytes(2_000_000));
  await vol.chmod("/src", 0o600);
  const before = (await vol.info()).storedBytes;
  await vol.copyFile("/src", "/dst");
  assertEquals((await vol.info()).storedBytes, before);
  assert(sameBytes(await vol.readFile("/dst"), await vol.readFile("/src")));
  assertEquals((await vol.stat("/dst")).mode & 0o777, 0o600);
  await assertRejects(() => vol.copyFile("/", "/x"), IsADirectory);
});

Deno.test("symlink(), readLink() and realPath() resolve relative and absolute targets", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  await vol.mkdir("/x/y", { recursive: true });
  await vol.writeTextFile("/x/y/target", "T");
  await vol.symlink("y/target", "/x/rel");
  await vol.symlink("/x/y", "/abs");
  await vol.symlink("../rel", "/x/y/up");
  assertEquals(await vol.readLink("/x/rel"), "y/target");
  assertEquals(await vol.readTextFile("/x/rel"), "T");
  assertEquals(await vol.readTextFile("/abs/target"), "T");
  assertEquals(await vol.readTextFile("/x/y/up"), "T");
  assertEquals(await vol.realPath("/abs/../abs/target"), "/x/y/target");
  assertEquals(await vol.realPath("/x/y/up"), "/x/y/target");
  await assertRejects(() => vol.readLink("/x"), InvalidArgument);
  await vol.symlink("dangling-target", "/d");
  await vol.writeTextFile("/d", "created through the link");
  assertEquals(await vol.readTextFile("/dangling-target"), "created through the link");
});

Deno.test("symlink loops fail with FilesystemLoop", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  await vol.symlink("/b", "/a");
  await vol.symlink("/a", "/b");
  await vol.symlink("self", "/self");
  await assertRejects(() => vol.readFile("/a"), FilesystemLoop);
  await assertRejects(() => vol.stat("/self"), FilesystemLoop);
  assert((await vol.lstat("/a")).isSymlink);
});

Deno.test("link() makes hard links that share content and count nlink", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  await vol.writeTextFile("/orig", "shared");
  await vol.link("/orig", "/hard");
  assertEquals((await vol.stat("/orig")).nlink, 2);
  assertEquals((await vol.stat("/orig")).ino, (await vol.stat("/hard")).ino);
  await vol.writeTextFile("/hard", "changed");
  assertEquals(await vol.readTextFile("/orig"), "changed");
  await vol.remove("/orig");
  assertEquals((await vol.stat("/hard")).nlink, 1);
  assertEquals(await vol.readTextFile("/hard"), "changed");
  await vol.mkdir("/dir");
  await assertRejects(() => vol.link("/dir", "/dirlink"), PermissionDenied);
  assert((await t.store.check()).ok);
});

Deno.test("truncate() shrinks and grows; the gap reads as zeros", async () => {
  await using t = await tempStore({ defaultVolume: { chunkSize: 4096 } });
  const vol = await t.store.volume();
  const data = randomBytes(10_000);
  await vol.writeFile("/f", data);
  await vol.truncate("/f", 5000);
  assert(sameBytes(await vol.readFile("/f"), data.subarray(0, 5000)));
  await vol.truncate("/f", 12_000);
  const grown = await vol.readFile("/f");
  assertEquals(grown.length, 12_000);
  assert(sameBytes(grown.subarray(0, 5000), data.subarray(0, 5000)));
  assert(grown.subarray(5000).every((b) => b === 0));
  await vol.truncate("/f");
  assertEquals((await vol.stat("/f")).size, 0);
  assert((await t.store.check()).ok);
});

Deno.test("utime(), chmod() and chown() change metadata", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  await vol.writeTextFile("/f", "x");
  await vol.utime("/f", new Date("2001-02-03T04:05:06Z"), 1_000_000_000.5);
  const s = await vol.stat("/f");
  assertEquals(s.atime.toISOString(), "2001-02-03T04:05:06.000Z");
  assertEquals(s.mtimeNs, 1_000_000_000_500_000_000n);
  await vol.chmod("/f", 0o4751);
  assertEquals((await vol.stat("/f")).mode & 0o7777, 0o4751);
  await vol.chown("/f", 1000, 100);
  const o = await vol.stat("/f");
  assertEquals([o.uid, o.gid], [1000, 100]);
});

Deno.test("readFile() of a directory fails with IsADirectory, readDir() of a file with NotADirectory", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  await vol.mkdir("/d");
  await vol.writeTextFile("/f", "x");
  await assertRejects(() => vol.readFile("/d"), IsADirectory);
  await assertRejects(async () => {
    for await (const _ of vol.readDir("/f")) { /* nothing */ }
  }, NotADirectory);
  await assertRejects(() => vol.readFile("/f/inside"), NotADirectory);
});

Deno.test("extended attributes are set, listed, read and removed", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  await vol.writeTextFile("/f", "x");
  await vol.setXattr("/f", "user.colour", "blue");
  await vol.setXattr("/f", "user.bin", new Uint8Array([0, 1, 2]));
  assertEquals(await vol.listXattrs("/f"), ["user.bin", "user.colour"]);
  assertEquals(new TextDecoder().decode(await vol.getXattr("/f", "user.colour")), "blue");
  await assertRejects(
    () => vol.setXattr("/f", "user.colour", "red", { create: true }),
    AlreadyExists,
  );
  await assertRejects(() => vol.setXattr("/f", "user.new", "x", { replace: true }), NotFound);
  await vol.removeXattr("/f", "user.colour");
  await assertRejects(() => vol.getXattr("/f", "user.colour"), NotFound);
  await assertRejects(
    () => vol.setXattr("/f", "user.big", new Uint8Array(65537)),
    InvalidArgument,
  );
});

Deno.test("a streamed writeFile() of a new path appears only when it commits, replacing a racer", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  let consumed!: () => void;
  const firstTaken = new Promise<void>((r) => consumed = r);
  const big = randomBytes(3_000_000);
  let pulls = 0;
  const stream = new ReadableStream<Uint8Array>({
    async pull(c) {
      if (pulls++ === 0) return c.enqueue(big.subarray(0, 2_000_000));
      // The writer asks for more only once it has written the first part.
      consumed();
      await gate;
      c.enqueue(big.subarray(2_000_000));
      c.close();
    },
  }, { highWaterMark: 0 });
  const writing = vol.writeFile("/race", stream);
  await firstTaken;
  assert(!(await vol.exists("/race")), "a half-written new file must not be visible");
  await vol.writeTextFile("/race", "the racer");
  release();
  await writing;
  assert(sameBytes(await vol.readFile("/race"), big));
  const stream2 = ReadableStream.from([randomBytes(2_000_000, 5)]);
  await vol.writeTextFile("/taken", "first");
  await assertRejects(() => vol.writeFile("/taken", stream2, { createNew: true }), AlreadyExists);
  assertEquals(await vol.readTextFile("/taken"), "first");
  const report = await t.store.check();
  assert(report.ok && report.pendingWrites === 0, JSON.stringify(report));
});
