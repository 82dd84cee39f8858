/**
 * Engine benchmarks, one scenario per process run (so peak RSS is the
 * scenario's own): `deno run ... bench/engine.ts SCENARIO [SIZE_MIB]`.
 * Prints JSON lines; `bench/main.ts` runs them all and prints the table.
 */

import { putTree } from "../cli/transfer.ts";
import { Store } from "../mod.ts";
import { DataSource, emit, MiB, peakRssMiB, scratch, since, textPool } from "./_util.ts";

const SYSTEM = "trove";
/** Store options under test: `BENCH_PAGE_SIZE` compares page sizes. */
const OPEN = {
  create: true,
  ...(Deno.env.get("BENCH_PAGE_SIZE") ? { pageSize: Number(Deno.env.get("BENCH_PAGE_SIZE")) } : {}),
};

/** Sequential write then read of one file through a handle. */
async function sequential(kind: "random" | "text", mib: number, encrypted = false): Promise<void> {
  const path = await scratch(`seq-${kind}.trove`);
  await using store = await Store.open(path, OPEN);
  const vol = encrypted
    ? await store.createVolume("sealed", { passphrase: "benchmark passphrase" })
    : await store.volume();
  const src = new DataSource(kind);
  const block = new Uint8Array(4 * MiB);
  let t0 = performance.now();
  {
    await using f = await vol.open("/file", "w");
    for (let done = 0; done < mib * MiB; done += block.length) await f.write(src.fill(block));
  }
  const w = since(t0);
  t0 = performance.now();
  let n = 0;
  {
    await using f = await vol.open("/file");
    while (true) {
      const k = await f.read(block);
      if (k === null) break;
      n += k;
    }
  }
  const r = since(t0);
  if (n !== mib * MiB) throw new Error(`read ${n} bytes, wrote ${mib * MiB}`);
  const info = await vol.info();
  const c = `${mib} MiB ${kind}${encrypted ? ", encrypted" : ""}`;
  emit({ bench: "sequential write", case: c, system: SYSTEM, value: mib / w, unit: "MB/s" });
  emit({ bench: "sequential read", case: c, system: SYSTEM, value: mib / r, unit: "MB/s" });
  emit({
    bench: "stored / logical",
    case: c,
    system: SYSTEM,
    value: info.storedBytes / info.logicalBytes,
    unit: "ratio",
  });
  emit({
    bench: "peak RSS",
    case: `sequential ${c}`,
    system: SYSTEM,
    value: peakRssMiB(),
    unit: "MiB",
  });
  await Deno.remove(path).catch(() => {});
}

/** Many small files: create, stat, read, delete. */
async function smallFiles(count: number): Promise<void> {
  const path = await scratch("small.trove");
  await using store = await Store.open(path, OPEN);
  const vol = await store.volume();
  const src = new DataSource("random");
  const buf = new Uint8Array(4096);
  const dirs = 100;
  for (let d = 0; d < dirs; d++) await vol.mkdir(`/d${d}`);
  const name = (i: number) => `/d${i % dirs}/file-${i}`;
  let t0 = performance.now();
  for (let i = 0; i < count; i++) await vol.writeFile(name(i), src.fill(buf));
  const create = count / since(t0);
  t0 = performance.now();
  for (let i = 0; i < count; i++) await vol.stat(name(i));
  const stat = count / since(t0);
  t0 = performance.now();
  for (let i = 0; i < count; i++) await vol.readFile(name(i));
  const read = count / since(t0);
  t0 = performance.now();
  for (let i = 0; i < count; i++) await vol.remove(name(i));
  const del = count / since(t0);
  const c = `${count.toLocaleString("en-US")} × 4 KiB`;
  for (
    const [op, v] of [["create", create], ["stat", stat], ["read", read], ["delete", del]] as const
  ) {
    emit({ bench: `small files ${op}`, case: c, system: SYSTEM, value: v, unit: "files/s" });
  }
  emit({
    bench: "peak RSS",
    case: `small files ${c}`,
    system: SYSTEM,
    value: peakRssMiB(),
    unit: "MiB",
  });
  await Deno.remove(path).catch(() => {});
}

/** Two ingests of a tree, the second with 5% of its files changed. */
async function tree(t1: string, t2: string): Promise<void> {
  const path = await scratch("tree.trove");
  const store = await Store.open(path, OPEN);
  const vol = await store.volume();
  for (const [i, dir] of [[1, t1], [2, t2]] as const) {
    const t0 = performance.now();
    const { bytes } = await putTree(vol, dir, `/ingest${i}`);
    const secs = since(t0);
    await store.checkpoint();
    const stored = (await Deno.stat(path)).size;
    const c = `ingest ${i} of ${Math.round(bytes / MiB)} MiB tree`;
    emit({
      bench: "tree ingest",
      case: c,
      system: SYSTEM,
      value: bytes / MiB / secs,
      unit: "MB/s",
    });
    emit({
      bench: "tree stored",
      case: `after ingest ${i}`,
      system: SYSTEM,
      value: stored / MiB,
      unit: "MiB",
    });
    if (i === 2) {
      const info = await vol.info();
      emit({
        bench: "tree logical / stored",
        case: "both ingests",
        system: SYSTEM,
        value: info.logicalBytes / stored,
        unit: "ratio",
      });
    }
  }
  emit({
    bench: "peak RSS",
    case: "tree ingests",
    system: SYSTEM,
    value: peakRssMiB(),
    unit: "MiB",
  });
  await store.close();
  await Deno.remove(path).catch(() => {});
}

/** Streams a huge file through a writable and back out of a readable. */
async function stream(mib: number): Promise<void> {
  const path = await scratch("stream.trove");
  await using store = await Store.open(path, OPEN);
  const vol = await store.volume();
  // The source itself stays small (8 MiB pool, 4 × 1 MiB ring) so the
  // peak RSS measured is Trove's.
  const src = new DataSource("random", 8 * MiB);
  const total = mib * MiB;
  let sent = 0;
  let t0 = performance.now();
  const f = await vol.open("/huge", "w");
  // A ring of source buffers: a write copies its chunk before the ring comes round.
  const ring = Array.from({ length: 4 }, () => new Uint8Array(MiB));
  let next = 0;
  await new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent >= total) return c.close();
      sent += MiB;
      c.enqueue(src.fill(ring[next++ % ring.length]));
    },
  }).pipeTo(f.writable);
  const w = since(t0);
  t0 = performance.now();
  let got = 0;
  const r = await vol.open("/huge");
  await r.readable.pipeTo(new WritableStream({ write: (chunk) => void (got += chunk.length) }));
  const rd = since(t0);
  if (got !== total) throw new Error(`streamed ${got} of ${total} bytes`);
  const c = `${(mib / 1024).toFixed(0)} GiB stream`;
  emit({ bench: "stream write", case: c, system: SYSTEM, value: mib / w, unit: "MB/s" });
  emit({ bench: "stream read", case: c, system: SYSTEM, value: mib / rd, unit: "MB/s" });
  emit({ bench: "peak RSS", case: c, system: SYSTEM, value: peakRssMiB(), unit: "MiB" });
  await store.close();
  await Deno.remove(path).catch(() => {});
}

if (import.meta.main) {
  const [scenario, a, b] = Deno.args;
  switch (scenario) {
    case "seq-random":
      await sequential("random", Number(a ?? 1024));
      break;
    case "seq-text":
      await sequential("text", Number(a ?? 1024));
      break;
    case "seq-random-enc":
      await sequential("random", Number(a ?? 1024), true);
      break;
    case "seq-text-enc":
      await sequential("text", Number(a ?? 1024), true);
      break;
    case "small":
      await smallFiles(Number(a ?? 10000));
      break;
    case "tree":
      await tree(a, b);
      break;
    case "stream":
      await stream(Number(a ?? 10240));
      break;
    default:
      throw new Error(`unknown scenario ${scenario}`);
  }
}

export { textPool };
