import { DatabaseSync } from "node:sqlite";
import { SCHEMA_VERSION } from "../src/store/rooms.ts";
import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { AlreadyExists, InvalidArgument, NotFound, NotSupported, ReadOnly, Store } from "../mod.ts";
import {
  cpuLoad,
  digest,
  ignoreWithout,
  randomBytes,
  run,
  tempDir,
  tempStore,
} from "./_helpers.ts";

Deno.test("a store persists across close and reopen", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  await vol.mkdir("/d");
  await vol.writeFile("/d/f", randomBytes(1_234_567));
  await t.store.close();
  await using again = await Store.open(t.path);
  const v2 = await again.volume();
  assertEquals((await v2.readFile("/d/f")).length, 1_234_567);
  assert((await again.check({ verify: true })).ok);
});

Deno.test("Store.open() of a missing file without create fails with NotFound", async () => {
  await using d = await tempDir();
  await assertRejects(() => Store.open(`${d.path}/none.trove`), NotFound);
  await assertRejects(() => Store.open(`${d.path}/none.trove`, { readOnly: true }), NotFound);
});

Deno.test("a read-only store serves reads and refuses every write with ReadOnly", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  await vol.mkdir("/d");
  await vol.writeTextFile("/d/f", "content");
  await vol.setXattr("/d/f", "user.a", "1");
  await t.store.close();
  const before = await digest(await Deno.readFile(t.path));
  await using ro = await Store.open(t.path, { readOnly: true });
  const r = await ro.volume();
  assertEquals(await r.readTextFile("/d/f"), "content");
  assertEquals((await r.stat("/d")).isDirectory, true);
  const writes: [string, () => Promise<unknown>][] = [
    ["writeFile", () => r.writeTextFile("/d/f", "x")],
    ["writeFile new", () => r.writeTextFile("/new", "x")],
    ["mkdir", () => r.mkdir("/e")],
    ["remove", () => r.remove("/d/f")],
    ["rename", () => r.rename("/d/f", "/g")],
    ["copy", () => r.copy("/d", "/d2")],
    ["copyFile", () => r.copyFile("/d/f", "/h")],
    ["symlink", () => r.symlink("/d/f", "/s")],
    ["link", () => r.link("/d/f", "/l")],
    ["truncate", () => r.truncate("/d/f")],
    ["utime", () => r.utime("/d/f", 1, 1)],
    ["chmod", () => r.chmod("/d/f", 0o600)],
    ["setXattr", () => r.setXattr("/d/f", "user.b", "2")],
    ["removeXattr", () => r.removeXattr("/d/f", "user.a")],
    ["open for write", () => r.open("/d/f", "r+")],
    ["restore", () => r.restore("/d/f", 1)],
    ["batch", () => r.batch(() => {})],
    ["createVolume", () => ro.createVolume("other")],
    ["removeVolume", () => ro.removeVolume("default")],
    ["gc", () => ro.gc()],
  ];
  for (const [name, fn] of writes) {
    const e = await assertRejects(fn, ReadOnly);
    assert(e instanceof ReadOnly, name);
  }
  assert((await ro.check()).ok);
  await ro.close();
  assertEquals(await digest(await Deno.readFile(t.path)), before);
});

Deno.test("a volume opened read-only refuses writes while others write", async () => {
  await using t = await tempStore();
  const rw = await t.store.volume();
  await rw.writeTextFile("/f", "1");
  const ro = await t.store.volume("default", { readOnly: true });
  await assertRejects(() => ro.writeTextFile("/f", "2"), ReadOnly);
  await rw.writeTextFile("/f", "3");
  assertEquals(await ro.readTextFile("/f"), "3");
});

Deno.test("a file that is not a Trove store is refused and left untouched", async () => {
  await using d = await tempDir();
  const junk = `${d.path}/junk.bin`;
  await Deno.writeFile(junk, randomBytes(10_000));
  const other = `${d.path}/other.db`;
  const db = new DatabaseSync(other);
  db.exec("CREATE TABLE t(x); INSERT INTO t VALUES (1);");
  db.close();
  for (const path of [junk, other]) {
    const before = await digest(await Deno.readFile(path));
    await assertRejects(() => Store.open(path), InvalidArgument, "not a Trove store");
    await assertRejects(() => Store.open(path, { create: true }), InvalidArgument);
    assertEquals(await digest(await Deno.readFile(path)), before);
  }
});

Deno.test("a store from a newer format version is refused with NotSupported", async () => {
  await using t = await tempStore();
  await t.store.close();
  const db = new DatabaseSync(t.path);
  db.exec("PRAGMA user_version = 99");
  db.close();
  const before = await digest(await Deno.readFile(t.path));
  await assertRejects(() => Store.open(t.path), NotSupported, "newer");
  assertEquals(await digest(await Deno.readFile(t.path)), before);
});

Deno.test("volumes are created, listed, renamed and removed", async () => {
  await using t = await tempStore();
  const a = await t.store.createVolume("photos", { chunkSize: 65536, capacity: 1e6 });
  await a.writeTextFile("/x", "x");
  await assertRejects(() => t.store.createVolume("photos"), AlreadyExists);
  await assertRejects(() => t.store.createVolume("bad/name"), InvalidArgument);
  await assertRejects(() => t.store.createVolume("ok", { chunkSize: 1000 }), InvalidArgument);
  const names = (await t.store.volumes()).map((v) => v.name);
  assertEquals(names, ["default", "photos"]);
  await t.store.renameVolume("photos", "pictures");
  const p = await t.store.volume("pictures");
  assertEquals(await p.readTextFile("/x"), "x");
  assertEquals(p.chunkSize, 65536);
  await assertRejects(() => t.store.volume("photos"), NotFound);
  await t.store.removeVolume("pictures");
  assertEquals((await t.store.volumes()).map((v) => v.name), ["default"]);
  assert((await t.store.check()).ok);
});

Deno.test("export() writes a consistent copy beside the live store and refuses to overwrite", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  await vol.writeFile("/f", randomBytes(2_000_000));
  const dest = `${t.dir}/copy.trove`;
  await t.store.export(dest);
  await assertRejects(() => t.store.export(dest), AlreadyExists);
  await vol.writeTextFile("/after", "not in the copy");
  await using copy = await Store.open(dest, { readOnly: true });
  const cv = await copy.volume();
  assertEquals((await cv.readFile("/f")).length, 2_000_000);
  assert(!(await cv.exists("/after")));
  assert((await copy.check({ verify: true })).ok);
});

Deno.test({
  name: "the stock sqlite3 shell opens a store and finds it consistent",
  ignore: ignoreWithout("sqlite3"),
  async fn() {
    await using t = await tempStore();
    const vol = await t.store.volume();
    await vol.writeTextFile("/hello.txt", "hello");
    await t.store.close();
    const { stdout } = await run("sqlite3", [
      t.path,
      "PRAGMA application_id; PRAGMA user_version; PRAGMA integrity_check; SELECT name FROM volumes; SELECT CAST(key AS TEXT) FROM entries;",
    ]);
    assertEquals(stdout.trim().split("\n"), [
      String(0x54524f56),
      String(SCHEMA_VERSION),
      "ok",
      "default",
      "hello.txt",
    ]);
  },
});

Deno.test("a store at an older format version migrates forward on a writable open", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  await vol.writeTextFile("/kept", "across the upgrade");
  await t.store.close();
  // Take the file back to format 1, as a store written before key slots was.
  const db = new DatabaseSync(t.path);
  db.exec(`DROP TABLE key_slots; DROP TABLE locks; DROP TABLE lock_scope; DROP TABLE users;
    ALTER TABLE versions DROP COLUMN digest; ALTER TABLE nodes DROP COLUMN rdev;
    DROP INDEX nodes_uuid; ALTER TABLE nodes DROP COLUMN uuid;
    DROP TABLE kv_extents; DROP TABLE kv_items; DROP TABLE kv_stores;
    PRAGMA user_version = 1;`);
  db.close();
  await assertRejects(() => Store.open(t.path, { readOnly: true }), ReadOnly, "needs upgrading");
  await using upgraded = await Store.open(t.path);
  assertEquals(await (await upgraded.volume()).readTextFile("/kept"), "across the upgrade");
  await upgraded.createVolume("sealed", {
    passphrase: "pw",
    kdf: { memoryKiB: 1024, iterations: 1 },
  });
  assert((await upgraded.check()).ok);
  const check = new DatabaseSync(t.path, { readOnly: true });
  assertEquals(check.prepare("PRAGMA user_version").get()?.user_version, SCHEMA_VERSION);
  check.close();
});

Deno.test("the write-ahead log stays bounded through thousands of small commits, even under load", async () => {
  await using s = await tempStore();
  const v = await s.store.volume();
  await v.mkdir("/d");
  const data = randomBytes(4096);
  let peak = 0;
  // Busy cores starve the background checkpointer: the bound must not
  // depend on it keeping up.
  await using _load = cpuLoad();
  for (let i = 0; i < 3000; i++) {
    data[0] = i & 255;
    data[1] = i >> 8;
    await v.writeFile(`/d/f${i}`, data);
    if (i % 50 === 49) peak = Math.max(peak, Deno.statSync(`${s.path}-wal`).size);
  }
  // Each commit appends about 10 pages of 16 KiB; without checkpoints that
  // reach the end of the log, 3000 commits leave it near 450 MiB.
  assert(peak < 64 << 20, `the log grew to ${(peak / 1048576).toFixed(1)} MiB`);
  let n = 0;
  for await (const _ of v.readDir("/d")) n++;
  assertEquals(n, 3000);
});

Deno.test("a store written by the previous release (format 3) opens, migrates and works", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/old.trove`;
  await Deno.copyFile(new URL("./fixtures/format3.trove", import.meta.url), path);
  await using store = await Store.open(path);
  const vol = await store.volume();
  assertEquals(await vol.readTextFile("/docs/plan.md"), "# Plan, revised\n");
  assertEquals((await vol.versions("/docs/plan.md")).length, 2);
  assertEquals(new TextDecoder().decode(await vol.getXattr("/docs/plan.md", "user.note")), "kept");
  assertEquals(await vol.readLink("/docs/link"), "plan.md");
  assertEquals((await vol.readFile("/docs/old/big.bin"))[299_999], (299_999 * 7) & 255);
  assertEquals((await vol.locks.covering("/docs/plan.md"))[0].owner, "me");
  const vault = await store.volume("vault", { passphrase: "format three" });
  assertEquals(await vault.readTextFile("/secret.txt"), "sealed");
  // The new format's rules hold for old rows: removing a tree frees its chunks.
  await vol.remove("/docs", { recursive: true, permanent: true });
  assertEquals((await vol.info()).chunks, 0);
  const kinds = new Set<string>();
  for await (const c of vol.changes()) c.kinds.forEach((k) => kinds.add(k));
  assert(kinds.has("names"), [...kinds].join());
  const report = await store.check({ verify: true });
  assert(report.ok, JSON.stringify(report.problems));
  const raw = new DatabaseSync(path, { readOnly: true });
  assertEquals(raw.prepare("PRAGMA user_version").get()?.user_version, SCHEMA_VERSION);
  raw.close();
});
