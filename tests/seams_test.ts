/**
 * The engine's seams: the change feed (one row per commit, in the same
 * transaction), the chunk backend's delete queue, the rooms' registration
 * of what removing a volume deletes, and the injected clock.
 */

import { DatabaseSync } from "node:sqlite";
import { assert, assertEquals } from "./_assert.ts";
import { randomBytes, tempStore } from "./_helpers.ts";
import { type ChangeRecord, ManualClock, Store, type Volume } from "../mod.ts";

async function changes(vol: Volume, since = 0): Promise<ChangeRecord[]> {
  const out: ChangeRecord[] = [];
  for await (const c of vol.changes({ since })) out.push(c);
  return out;
}

Deno.test("every commit appends one change row, in order, naming what changed", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  const start = (await changes(vol)).at(-1)?.seq ?? 0;
  await vol.mkdir("/d");
  await vol.writeTextFile("/d/a.txt", "a");
  await vol.rename("/d/a.txt", "/d/b.txt");
  await vol.chmod("/d/b.txt", 0o600);
  await vol.setXattr("/d/b.txt", "user.k", "v");
  await vol.remove("/d", { recursive: true });
  await t.store.setVolumeOptions("default", { keepVersions: 3 });
  const rows = await changes(vol, start);
  assertEquals(rows.map((r) => r.kinds), [
    ["names"],
    ["content", "names"],
    ["names"],
    ["attributes"],
    ["xattrs"],
    ["names"],
    ["settings"],
  ]);
  const seqs = rows.map((r) => r.seq);
  assertEquals(seqs, [...seqs].sort((a, b) => a - b), "increasing");
  const file = rows[1].nodes!.find((n) => n !== rows[0].nodes![0]);
  assert(file !== undefined && rows[3].nodes!.includes(file), JSON.stringify(rows));
  assertEquals((await changes(vol, seqs[4])).length, 2, "since skips what was seen");
});

Deno.test("a batch is one change row; a rolled-back one leaves none", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  const start = (await changes(vol)).at(-1)?.seq ?? 0;
  await vol.batch(async () => {
    for (let i = 0; i < 5; i++) await vol.writeTextFile(`/f${i}`, String(i));
  });
  await vol.batch(async () => {
    await vol.writeTextFile("/never", "x");
    throw new Error("rolled back");
  }).catch(() => {});
  const rows = await changes(vol, start);
  assertEquals(rows.length, 1);
  assertEquals(rows[0].nodes!.length, 6, "five files and the root directory");
});

Deno.test("the feed keeps its newest 10,000 rows (trimmed every 256); an older reader gets a gap", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  await vol.writeTextFile("/f", "0");
  const first = (await changes(vol))[0].seq;
  for (let i = 1; i <= 10_300; i++) await vol.setXattr("/f", "user.i", String(i));
  const rows = await changes(vol, first);
  assert(rows.length >= 10_000 && rows.length < 10_256, String(rows.length));
  assertEquals(rows[0].gap, true);
  assertEquals(rows[1].gap, undefined);
  const recent = await changes(vol, rows.at(-5)!.seq);
  assertEquals([recent.length, recent[0].gap], [4, undefined]);
});

Deno.test("chunks that lose their last reference leave the backend in the same commit", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  await vol.writeFile("/big.bin", randomBytes(1 << 20)); // incompressible: not inline
  const raw = new DatabaseSync(t.path, { readOnly: true });
  const count = (sql: string) => Number(Object.values(raw.prepare(sql).get()!)[0]);
  assert(count("SELECT COUNT(*) FROM chunk_data") > 0);
  await vol.remove("/big.bin", { permanent: true });
  assertEquals(count("SELECT COUNT(*) FROM chunk_data"), 0);
  assertEquals(count("SELECT COUNT(*) FROM chunk_deletes"), 0);
  raw.close();
  assert((await t.store.check()).ok);
});

Deno.test("removing a volume leaves no row of it in any room's table", async () => {
  await using t = await tempStore();
  const vol = await t.store.createVolume("doomed", {
    passphrase: "pw",
    kdf: { memoryKiB: 1024, iterations: 1 },
  });
  await vol.mkdir("/d");
  await vol.writeFile("/d/big.bin", new Uint8Array(300_000).map((_, i) => i));
  await vol.writeTextFile("/d/a.txt", "a");
  await vol.writeTextFile("/d/a.txt", "b");
  await vol.setXattr("/d/a.txt", "user.k", "v");
  await vol.locks.lock("/d/a.txt", { depth: 0, scope: "exclusive" });
  const id = vol.id;
  await t.store.removeVolume("doomed");
  const raw = new DatabaseSync(t.path, { readOnly: true });
  const left: Record<string, number> = {};
  const tables = raw.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all() as {
    name: string;
  }[];
  for (const { name } of tables) {
    const cols = (raw.prepare(`PRAGMA table_info(${name})`).all() as { name: string }[])
      .map((c) => c.name);
    if (cols.includes("volume")) {
      left[name] = Number(
        Object.values(raw.prepare(`SELECT COUNT(*) FROM ${name} WHERE volume = ?`).get(id)!)[0],
      );
    }
  }
  for (const sql of ["SELECT COUNT(*) FROM versions", "SELECT COUNT(*) FROM extents"]) {
    left[sql] = Number(Object.values(raw.prepare(sql).get()!)[0]);
  }
  left["chunk_data"] = Number(
    Object.values(raw.prepare("SELECT COUNT(*) FROM chunk_data").get()!)[0],
  );
  raw.close();
  assert(Object.values(left).every((n) => n === 0), JSON.stringify(left));
  assert((await t.store.check()).ok);
});

Deno.test("sessions and locks expire by the store's clock, not by waiting", async () => {
  const clock = new ManualClock(1_700_000_000_000);
  await using t = await tempStore({ clock, sessionTimeoutMs: 60_000 });
  const vol = await t.store.volume();
  const lock = await vol.locks.lock("/a", { depth: 0, scope: "exclusive", timeoutSeconds: 30 });
  assertEquals(lock.expires!.getTime(), clock.now() + 30_000);
  clock.advance(29_999);
  assertEquals((await vol.locks.covering("/a")).length, 1);
  clock.advance(2);
  assertEquals((await vol.locks.covering("/a")).length, 0);
  // Another process's session, silent past the timeout by this clock, is reaped.
  const other = await Store.open(t.path, { clock: new ManualClock(clock.now()) });
  await (await other.volume()).writeTextFile("/x", "x");
  clock.advance(61_000);
  const report = await t.store.gc();
  assertEquals(report.sessionsReaped, 1);
  await other.close().catch(() => {});
});
