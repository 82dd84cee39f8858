import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { AlreadyExists, BadKey, NotFound, pack, Store, unpack } from "../mod.ts";
import { randomBytes, sameBytes, tempStore } from "./_helpers.ts";

Deno.test("pack and unpack carry content, modes, owners, times, symlinks, hard links and xattrs", async () => {
  await using s = await tempStore();
  const vol = await s.store.volume();
  await vol.mkdir("/proj/src", { recursive: true });
  await vol.writeFile("/proj/src/big.bin", randomBytes(9 << 20, 2));
  await vol.writeTextFile("/proj/readme.md", "# hi\n");
  await vol.chmod("/proj/readme.md", 0o600);
  await vol.chown("/proj/readme.md", 1000, 1001);
  await vol.utime(
    "/proj/readme.md",
    new Date("2001-02-03T04:05:06Z"),
    new Date("2001-02-03T04:05:06Z"),
  );
  await vol.setXattr(
    "/proj/readme.md",
    "user.webdav.{DAV:}displayname",
    new TextEncoder().encode("Readme"),
  );
  await vol.link("/proj/readme.md", "/proj/src/hardlink.md");
  await vol.symlink("../readme.md", "/proj/src/sym");
  await vol.mkdir("/proj/empty");
  await vol.utime("/proj/src", new Date("2010-01-01T00:00:00Z"), new Date("2010-01-01T00:00:00Z"));

  const dest = `${s.dir}/proj.pack`;
  const progress: number[] = [];
  const p = await pack(vol, "/proj", dest, { onProgress: (x) => progress.push(x.bytes) });
  assertEquals(p.files, 2); // the hard link is a link, not a file copy
  assertEquals(p.totalBytes, (9 << 20) + 5 + 5);
  assert(progress.length > 0 && progress[progress.length - 1] === p.bytes);
  await assertRejects(() => pack(vol, "/proj", dest), AlreadyExists);

  await unpack(dest, vol, "/back");
  const a = await vol.stat("/back/readme.md");
  const b = await vol.stat("/proj/readme.md");
  assertEquals([a.mode, a.uid, a.gid, a.mtime.getTime(), a.nlink], [
    b.mode,
    b.uid,
    b.gid,
    b.mtime.getTime(),
    2,
  ]);
  assertEquals((await vol.stat("/back/src/hardlink.md")).ino, a.ino);
  assertEquals(await vol.readLink("/back/src/sym"), "../readme.md");
  assertEquals(
    new TextDecoder().decode(
      await vol.getXattr("/back/readme.md", "user.webdav.{DAV:}displayname"),
    ),
    "Readme",
  );
  assert(sameBytes(await vol.readFile("/back/src/big.bin"), randomBytes(9 << 20, 2)));
  assertEquals((await vol.stat("/back/src")).mtime.toISOString(), "2010-01-01T00:00:00.000Z");
  assert((await vol.stat("/back/empty")).isDirectory);
  // The big file's chunks were already in the volume: unpacking stored nothing new.
  const info = await vol.info();
  assertEquals(info.uniqueBytes, (9 << 20) + 5);

  // Into an existing non-empty directory: refused, nothing changed.
  await assertRejects(() => unpack(dest, vol, "/proj"), AlreadyExists);
  // Into an empty one: fine.
  await vol.mkdir("/empty-target");
  await unpack(dest, vol, "/empty-target");
  assertEquals(await vol.readTextFile("/empty-target/readme.md"), "# hi\n");
  await assertRejects(() => unpack(`${s.dir}/missing.pack`, vol, "/x"), NotFound);
  assert(!(await vol.exists("/x")));
});

Deno.test("an encrypted pack needs its key; a single file packs as the pack's only entry", async () => {
  await using s = await tempStore();
  const vol = await s.store.volume();
  await vol.writeTextFile("/note.txt", "pack me");
  const dest = `${s.dir}/note.pack`;
  await pack(vol, "/note.txt", dest, {
    encryptWith: { passphrase: "pw" },
  });
  await assertRejects(() => unpack(dest, vol, "/n"), BadKey);
  await assertRejects(() => unpack(dest, vol, "/n", { credential: { passphrase: "no" } }), BadKey);
  assert(!(await vol.exists("/n")));
  await unpack(dest, vol, "/n", { credential: { passphrase: "pw" } });
  assertEquals(await vol.readTextFile("/n/note.txt"), "pack me");
  await using packed = await Store.open(dest, { readOnly: true });
  assertEquals((await packed.volumes()).map((v) => [v.name, v.encrypted]), [["default", true]]);
});

Deno.test("a pack that fails midway leaves no file behind", async () => {
  await using s = await tempStore();
  const vol = await s.store.volume();
  await vol.writeTextFile("/a", "x");
  const dest = `${s.dir}/sub/missing-dir/out.pack`;
  await assertRejects(() => pack(vol, "/", dest));
  const left = [...Deno.readDirSync(s.dir)].map((e) => e.name).filter((n) => n.includes("pack"));
  assertEquals(left, []);
});
