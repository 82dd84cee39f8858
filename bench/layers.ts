/**
 * Snapshots and layers: making a snapshot of a 10,000-file volume (beside
 * `cp -al` of the same files on the local disk, the metadata-only copy a
 * file system without snapshots offers), and reading every file through a
 * 3-layer overlay against reading the same files from one volume.
 * `deno run ... bench/layers.ts [FILES]`; prints JSON lines.
 */

import { Overlay, Store } from "../mod.ts";
import { DataSource, emit, scratch, since } from "./_util.ts";

const count = Number(Deno.args[0] ?? 10000);
const c = `${count.toLocaleString("en-US")} × 4 KiB`;
const dirs = 100;
const name = (i: number) => `/d${i % dirs}/file-${i}`;
const src = new DataSource("random");
const buf = new Uint8Array(4096);

async function fill(
  vol: {
    mkdir(p: string): Promise<void>;
    writeFile(p: string, d: Uint8Array): Promise<void>;
    batch<T>(fn: () => Promise<T>): Promise<T>;
  },
  from: number,
  step: number,
) {
  await vol.batch(async () => {
    for (let d = 0; d < dirs; d++) await vol.mkdir(`/d${d}`).catch(() => {});
    for (let i = from; i < count; i += step) await vol.writeFile(name(i), src.fill(buf));
  });
}

// ---- snapshot creation -----------------------------------------------------------
{
  const path = await scratch("snap.trove");
  await using store = await Store.open(path, { create: true });
  const vol = await store.volume();
  await fill(vol, 0, 1);
  const t0 = performance.now();
  await vol.createSnapshot("bench");
  emit({ bench: "snapshot create", case: c, system: "trove", value: since(t0) * 1000, unit: "ms" });
  await store.close();
  await Deno.remove(path).catch(() => {});

  const host = await Deno.makeTempDir({ prefix: "trove-bench-cpal-" });
  for (let d = 0; d < dirs; d++) await Deno.mkdir(`${host}/src/d${d}`, { recursive: true });
  for (let i = 0; i < count; i++) await Deno.writeFile(`${host}/src${name(i)}`, src.fill(buf));
  const t1 = performance.now();
  const r = await new Deno.Command("cp", { args: ["-al", `${host}/src`, `${host}/copy`] }).output();
  if (r.success) {
    emit({
      bench: "snapshot create",
      case: c,
      system: "cp -al (local disk)",
      value: since(t1) * 1000,
      unit: "ms",
    });
  }
  await Deno.remove(host, { recursive: true });
}

// ---- reading through three layers --------------------------------------------------
{
  const path = await scratch("layers.trove");
  await using store = await Store.open(path, { create: true });
  const flat = await store.createVolume("flat");
  await fill(flat, 0, 1);
  const lowers = [];
  for (let k = 0; k < 3; k++) {
    const v = await store.createVolume(`layer${k}`);
    await fill(v, k, 3);
    lowers.push(v);
  }
  await using view = await Overlay.open({ upper: await store.volume(), lowers: lowers.slice(1) });
  // The upper layer holds a third too: three layers in all.
  await fill(await store.volume(), 0, 3);
  const read = async (fs: { readFile(p: string): Promise<Uint8Array> }) => {
    const t0 = performance.now();
    for (let i = 0; i < count; i++) await fs.readFile(name(i));
    return count / since(t0);
  };
  emit({
    bench: "read every file",
    case: `${c}, one volume`,
    system: "trove",
    value: await read(flat),
    unit: "files/s",
  });
  emit({
    bench: "read every file",
    case: `${c}, 3-layer overlay`,
    system: "trove",
    value: await read(view),
    unit: "files/s",
  });
  await store.close();
  await Deno.remove(path).catch(() => {});
}
