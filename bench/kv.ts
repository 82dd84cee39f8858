/**
 * The key/value store beside a plain directory holding the same keys as
 * files (`DIR/data/KEY`), in the same run: sets of N 4 KiB values
 * batched and one by one, gets, listing the namespace, a 4 KiB partial
 * load from a large value, and PersistentMap sets and gets beside one
 * JSON file per key. `deno run ... bench/kv.ts [N] [BIG_MIB]`; prints
 * JSON lines.
 */

import { PersistentMap, Store } from "../mod.ts";
import { DataSource, emit, scratch, since } from "./_util.ts";

const n = Number(Deno.args[0] ?? 10000);
const bigMiB = Number(Deno.args[1] ?? 1024);
const c = `${n.toLocaleString("en-US")} × 4 KiB`;
const src = new DataSource("random");
const values = Array.from({ length: n }, () => src.fill(new Uint8Array(4096)).slice());
const key = (i: number) => `k${String(i).padStart(6, "0")}`;
const perSec = (count: number, t0: number) => count / since(t0);

function row(bench: string, system: string, value: number, unit: string, what = c): void {
  emit({ bench, case: what, system, value, unit });
}

// ---- a plain directory ------------------------------------------------------------
const host = await Deno.makeTempDir({ prefix: "trove-bench-kv-", dir: ".bench" });
{
  await Deno.mkdir(`${host}/data`);
  let t0 = performance.now();
  for (let i = 0; i < n; i++) await Deno.writeFile(`${host}/data/${key(i)}`, values[i]);
  // A directory has no batches: the same loop stands beside both of Trove's rows.
  row("kv set", "plain directory", perSec(n, t0), "sets/s");
  row("kv set (batched)", "plain directory", perSec(n, t0), "sets/s");
  t0 = performance.now();
  for (let i = 0; i < n; i++) await Deno.readFile(`${host}/data/${key(i)}`);
  row("kv get", "plain directory", perSec(n, t0), "gets/s");
  t0 = performance.now();
  const names: string[] = [];
  for await (const e of Deno.readDir(`${host}/data`)) names.push(e.name);
  names.sort();
  row("kv list", "plain directory", since(t0) * 1000, "ms", `${n.toLocaleString("en-US")} keys`);
}

// ---- the KV store -----------------------------------------------------------------
const path = await scratch("kv.trove");
{
  await using store = await Store.open(path, { create: true });
  const kv = await store.kv("bench");
  let t0 = performance.now();
  await kv.batch(async () => {
    for (let i = 0; i < n; i++) await kv.set(`data/${key(i)}`, values[i]);
  });
  row("kv set (batched)", "trove", perSec(n, t0), "sets/s");
  t0 = performance.now();
  for (let i = 0; i < n; i++) await kv.set(`one/${key(i)}`, values[i]); // a transaction each
  row("kv set", "trove", perSec(n, t0), "sets/s");
  t0 = performance.now();
  for (let i = 0; i < n; i++) await kv.get(`data/${key(i)}`);
  row("kv get", "trove", perSec(n, t0), "gets/s");
  t0 = performance.now();
  let listed = 0;
  for await (const _ of kv.list("data")) listed++;
  if (listed !== n) throw new Error(`listed ${listed} of ${n}`);
  row("kv list", "trove", since(t0) * 1000, "ms", `${n.toLocaleString("en-US")} keys`);
}

// ---- a 4 KiB partial load from a large value --------------------------------------
{
  const size = bigMiB << 20;
  const what = `4 KiB at random offsets of a ${bigMiB} MiB value`;
  const block = new Uint8Array(1 << 20);
  const chunks = async function* () {
    for (let at = 0; at < size; at += block.length) yield src.fill(block);
  };
  const file = `${host}/big`;
  {
    await using f = await Deno.open(file, { write: true, create: true });
    for await (const b of chunks()) await f.write(b);
  }
  await using store = await Store.open(path);
  const kv = await store.kv("bench");
  await kv.set("big", ReadableStream.from(chunks()));
  const loads = 1000;
  const offsets = Array.from({ length: loads }, () => Math.floor(Math.random() * (size - 4096)));
  let t0 = performance.now();
  for (const at of offsets) await kv.get("big", { offset: at, length: 4096 });
  row("kv partial load", "trove", since(t0) * 1000 / loads, "ms", what);
  t0 = performance.now();
  const buf = new Uint8Array(4096);
  for (const at of offsets) {
    using f = await Deno.open(file);
    await f.seek(at, Deno.SeekMode.Start);
    await f.read(buf);
  }
  row("kv partial load", "plain directory", since(t0) * 1000 / loads, "ms", what);
}

// ---- PersistentMap beside one JSON file per key --------------------------------------
{
  const m = Math.min(n, 5000);
  const what = `${m.toLocaleString("en-US")} small objects`;
  const obj = (i: number) => ({
    id: i,
    name: `item ${i}`,
    tags: ["a", "b"],
    at: 1700000000000 + i,
  });
  await using store = await Store.open(path);
  const batched = await PersistentMap.open(store, "bench-batched", { durable: false });
  let t0 = performance.now();
  for (let i = 0; i < m; i++) await batched.set(key(i), obj(i));
  await batched.flush();
  row("map set (batched)", "trove PersistentMap", perSec(m, t0), "sets/s", what);
  const durable = await PersistentMap.open(store, "bench-durable");
  t0 = performance.now();
  for (let i = 0; i < m; i++) await durable.set(key(i), obj(i)); // each durable
  row("map set", "trove PersistentMap", perSec(m, t0), "sets/s", what);
  t0 = performance.now();
  for (let i = 0; i < m; i++) await batched.get(key(i));
  row("map get", "trove PersistentMap", perSec(m, t0), "gets/s", what);

  await Deno.mkdir(`${host}/map`);
  t0 = performance.now();
  for (let i = 0; i < m; i++) {
    await Deno.writeTextFile(`${host}/map/${key(i)}.json`, JSON.stringify(obj(i)));
  }
  row("map set", "JSON file per key", perSec(m, t0), "sets/s", what);
  row("map set (batched)", "JSON file per key", perSec(m, t0), "sets/s", what);
  t0 = performance.now();
  for (let i = 0; i < m; i++) JSON.parse(await Deno.readTextFile(`${host}/map/${key(i)}.json`));
  row("map get", "JSON file per key", perSec(m, t0), "gets/s", what);
}

await Deno.remove(host, { recursive: true });
for (const s of ["", "-wal", "-shm"]) await Deno.remove(path + s).catch(() => {});
