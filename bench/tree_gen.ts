/**
 * Generates the dedup benchmark's trees under `.bench/`: `tree1`, a text
 * tree of about TARGET MiB (mostly small files, some large), and `tree2`, a
 * copy with 5% of its files changed — overwritten in place, appended to, or
 * with bytes inserted (which shifts everything after the insertion).
 */

import { MiB, textPool } from "./_util.ts";

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** Creates (or reuses) tree1 and tree2 of about `targetMiB`; returns their paths. */
export async function makeTrees(targetMiB: number): Promise<[string, string]> {
  const base = new URL(`../.bench/trees-${targetMiB}/`, import.meta.url).pathname;
  const t1 = `${base}tree1`;
  const t2 = `${base}tree2`;
  try {
    await Deno.stat(`${base}done`);
    return [t1, t2];
  } catch { /* generate */ }
  await Deno.remove(base, { recursive: true }).catch(() => {});
  const r = rng(42);
  const dirs: string[] = [""];
  for (let i = 0; i < 120; i++) {
    const parent = dirs[Math.floor(r() * dirs.length)];
    if (parent.split("/").length > 4) continue;
    dirs.push(`${parent}/dir${i}`);
  }
  for (const d of dirs) await Deno.mkdir(t1 + d, { recursive: true });
  const files: string[] = [];
  let total = 0;
  for (let i = 0; total < targetMiB * MiB; i++) {
    const big = r() < 0.15;
    const [lo, hi] = big ? [64 << 10, 4 << 20] : [500, 64 << 10];
    const size = Math.floor(lo * Math.pow(hi / lo, r()));
    const path = `${dirs[Math.floor(r() * dirs.length)]}/file${i}.${big ? "log" : "txt"}`;
    await Deno.writeFile(t1 + path, textPool(size, i + 1));
    files.push(path);
    total += size;
  }
  // tree2: a full copy, then 5% of the files changed.
  for (const d of dirs) await Deno.mkdir(t2 + d, { recursive: true });
  for (const f of files) await Deno.copyFile(t1 + f, t2 + f);
  const enc = new TextEncoder();
  for (const f of files) {
    if (r() >= 0.05) continue;
    const data = await Deno.readFile(t2 + f);
    const pos = Math.floor(r() * data.length);
    const kind = r();
    let out: Uint8Array;
    if (kind < 0.4) {
      out = data;
      out.set(enc.encode("CHANGED ".repeat(12)).subarray(0, Math.min(96, data.length - pos)), pos);
    } else if (kind < 0.7) {
      out = new Uint8Array(data.length + 2048);
      out.set(data);
      out.set(textPool(2048, 999 + pos), data.length);
    } else {
      const ins = enc.encode("inserted line of text\n".repeat(9));
      out = new Uint8Array(data.length + ins.length);
      out.set(data.subarray(0, pos));
      out.set(ins, pos);
      out.set(data.subarray(pos), pos + ins.length);
    }
    await Deno.writeFile(t2 + f, out);
  }
  await Deno.writeTextFile(`${base}done`, `${files.length} files, ${total} bytes\n`);
  return [t1, t2];
}
