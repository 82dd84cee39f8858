import { DatabaseSync } from "node:sqlite";
import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { Corrupt, Store } from "../mod.ts";
import { randomBytes, tempStore, textBytes } from "./_helpers.ts";

/** Opens the store file behind Trove's back, as damage would. */
function tamper(path: string, sql: string, ...params: (number | Uint8Array)[]): void {
  const db = new DatabaseSync(path);
  try {
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}

function peek<T>(path: string, sql: string): T {
  const db = new DatabaseSync(path);
  try {
    return db.prepare(sql).get() as T;
  } finally {
    db.close();
  }
}

async function prepared() {
  const t = await tempStore();
  const vol = await t.store.volume();
  await vol.writeFile("/raw", randomBytes(200_000, 1));
  await vol.writeFile("/other", randomBytes(200_000, 2));
  await vol.writeFile("/text", textBytes(200_000));
  await t.store.close();
  return t;
}

async function reopen(path: string) {
  const store = await Store.open(path);
  return { store, vol: await store.volume() };
}

Deno.test("a flipped byte in a chunk is reported as Corrupt, never returned", async () => {
  await using t = await prepared();
  const id =
    peek<{ id: number }>(t.path, "SELECT id FROM chunks WHERE codec = 0 ORDER BY id LIMIT 1").id;
  tamper(t.path, "UPDATE chunk_data SET data = CAST(data AS BLOB) WHERE id = ?", id);
  const { data } = peek<{ data: Uint8Array }>(
    t.path,
    `SELECT data FROM chunk_data WHERE id = ${id}`,
  );
  data[1234] ^= 0x01;
  tamper(t.path, "UPDATE chunk_data SET data = ? WHERE id = ?", data, id);
  const { store, vol } = await reopen(t.path);
  await assertRejects(() => vol.readFile("/raw"), Corrupt);
  const report = await store.check({ verify: true });
  assert(!report.ok);
  assertEquals(report.problems.map((p) => p.code), ["corrupt-chunk"]);
  assertEquals(report.damage, 1);
  await store.close();
});

Deno.test("a truncated compressed chunk and a swapped chunk are Corrupt", async () => {
  await using t = await prepared();
  const z = peek<{ id: number }>(t.path, "SELECT id FROM chunks WHERE codec = 1 LIMIT 1").id;
  tamper(t.path, "UPDATE chunk_data SET data = substr(data, 1, length(data) / 2) WHERE id = ?", z);
  // Swap the blobs of two raw chunks of the same size: the first chunks of /raw and /other.
  const ids = new DatabaseSync(t.path).prepare(
    `SELECT c.id FROM chunks c JOIN chunk_data d ON d.id = c.id
     WHERE c.codec = 0 AND length(d.data) = (SELECT MAX(length(data)) FROM chunk_data)
     ORDER BY c.id`,
  ).all().map((r) => Number(r.id));
  const blob = (id: number) =>
    peek<{ data: Uint8Array }>(t.path, `SELECT data FROM chunk_data WHERE id = ${id}`).data;
  const [a, b] = [blob(ids[0]), blob(ids[1])];
  tamper(t.path, "UPDATE chunk_data SET data = ? WHERE id = ?", b, ids[0]);
  tamper(t.path, "UPDATE chunk_data SET data = ? WHERE id = ?", a, ids[1]);
  const { store, vol } = await reopen(t.path);
  await assertRejects(() => vol.readFile("/text"), Corrupt);
  await assertRejects(() => vol.readFile("/raw"), Corrupt);
  await assertRejects(() => vol.readFile("/other"), Corrupt);
  const report = await store.check({ verify: true });
  assertEquals(report.problems.filter((p) => p.code === "corrupt-chunk").length, 3);
  await store.close();
});

Deno.test("check() finds bookkeeping damage and repair() fixes it without losing data", async () => {
  await using t = await prepared();
  tamper(t.path, "UPDATE chunks SET refs = refs + 5 WHERE id = (SELECT MIN(id) FROM chunks)");
  tamper(t.path, "UPDATE volumes SET stored_bytes = stored_bytes + 999");
  tamper(t.path, "INSERT INTO chunk_data(id, data) VALUES (999999, x'00')");
  tamper(t.path, "UPDATE nodes SET nlink = 7 WHERE id = (SELECT node FROM entries LIMIT 1)");
  tamper(t.path, "INSERT INTO xattrs(node, key, name, value) VALUES (424242, x'61', NULL, x'62')");
  const { store, vol } = await reopen(t.path);
  const found = await store.check();
  assert(!found.ok);
  assertEquals(
    found.problems.map((p) => p.code).sort(),
    ["nlink", "orphan-data", "orphan-xattr", "refcount", "stored-bytes"],
  );
  const fixed = await store.check({ repair: true });
  assert(fixed.ok);
  assertEquals(fixed.repaired, 5);
  const clean = await store.check({ verify: true });
  assert(clean.ok && clean.problems.length === 0, JSON.stringify(clean.problems));
  assertEquals((await vol.readFile("/raw")).length, 200_000);
  await store.close();
});

Deno.test("check() reports a dangling entry and a missing chunk as damage", async () => {
  await using t = await prepared();
  tamper(t.path, "INSERT INTO entries(parent, key, name, node) VALUES (1, x'6768', NULL, 777777)");
  tamper(t.path, "DELETE FROM chunk_data WHERE id = (SELECT MIN(id) FROM chunks)");
  const { store } = await reopen(t.path);
  const report = await store.check();
  assertEquals(report.problems.map((p) => p.code).sort(), ["dangling-entry", "missing-data"]);
  const after = await store.check({ repair: true });
  assertEquals(after.damage, 1, "a missing chunk cannot be repaired");
  await store.close();
});

Deno.test("gc() gives the space of deleted files back to the file system", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  await vol.writeFile("/big", randomBytes(20_000_000));
  await t.store.checkpoint();
  const full = (await Deno.stat(t.path)).size;
  await vol.remove("/big", { permanent: true });
  const report = await t.store.gc();
  const after = (await Deno.stat(t.path)).size;
  assert(after < full / 4, `file ${full} → ${after}`);
  assert(report.fileBytesFreed > 15_000_000, JSON.stringify(report));
});
