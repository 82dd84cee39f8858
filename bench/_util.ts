/** Helpers shared by the benchmarks: data, timing, memory, output. */

const MiB = 1 << 20;

/** One measured figure, printed as a JSON line. */
export interface Row {
  bench: string;
  case: string;
  system: string;
  value: number;
  unit: string;
  /** Extra context (sizes, counts). */
  note?: string;
}

/** Rows emitted in this process (peers run in the orchestrator's). */
export const emitted: Row[] = [];

/** Prints a row as one JSON line on stdout. */
export function emit(row: Row): void {
  emitted.push(row);
  console.log(JSON.stringify(row));
}

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
}, 25);
Deno.unrefTimer(sampler);

/**
 * Peak resident set size of this process so far, in MiB, sampled every
 * 25 ms (reading VmHWM from /proc would need --allow-all).
 */
export function peakRssMiB(): number {
  peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
  return Math.round(peakRss / (1 << 20));
}

/** Seconds since `t0` (a `performance.now()` reading). */
export function since(t0: number): number {
  return (performance.now() - t0) / 1000;
}

/**
 * Source of benchmark data: windows of a random (or text) pool, each 4 KiB
 * stamped with a counter so no two chunks of a run are identical (so dedup
 * cannot flatter the figures) while generating costs almost nothing.
 */
export class DataSource {
  readonly #pool: Uint8Array;
  #counter = 0;

  constructor(kind: "random" | "text", poolBytes = 32 * MiB) {
    this.#pool = new Uint8Array(poolBytes);
    if (kind === "random") {
      for (let i = 0; i < poolBytes; i += 65536) {
        crypto.getRandomValues(this.#pool.subarray(i, i + 65536));
      }
    } else {
      this.#pool.set(textPool(poolBytes));
    }
  }

  /** Fills `buf` with fresh data. */
  fill(buf: Uint8Array): Uint8Array {
    const span = this.#pool.length - buf.length;
    const off = ((this.#counter * 7919) % (span / 4096)) * 4096;
    buf.set(this.#pool.subarray(off, off + buf.length));
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    for (let i = 0; i + 8 <= buf.length; i += 4096) {
      view.setFloat64(i, ++this.#counter);
    }
    return buf;
  }
}

const WORDS = (
  "the of and to in is that for it as with was on be by this are or from at an which " +
  "storage chunk volume file version store engine sqlite write read commit handle index " +
  "function return const let if else for while class interface export import async await"
).split(" ");

/** Pseudo-random English-ish text of `n` bytes (zstd -3 ratio about 4-5). */
const ENCODED = WORDS.map((w) => new TextEncoder().encode(w));
const DIGITS = Array.from({ length: 10 }, (_, d) => 48 + d);

export function textPool(n: number, seed = 12345): Uint8Array {
  const out = new Uint8Array(n);
  const enc = ENCODED;
  let x = seed >>> 0;
  let i = 0;
  let line = 0;
  while (i < n) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const w = enc[x % enc.length];
    const len = Math.min(w.length, n - i);
    out.set(w.subarray(0, len), i);
    i += len;
    if (i < n) {
      line += len + 1;
      if (line > 60 + (x % 30)) {
        out[i++] = 10;
        line = 0;
      } else out[i++] = x % 17 === 0 ? 44 : 32;
    }
    if (x % 97 === 0 && i + 10 < n) {
      for (let v = x % 100000; v > 0; v = Math.floor(v / 10)) out[i++] = DIGITS[v % 10];
    }
  }
  return out;
}

/** Formats a row's value for the table. */
function fmt(v: number): string {
  if (!Number.isFinite(v)) return "–";
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString("en-US");
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** Units where less is better (times, memory). */
const LOWER_IS_BETTER = new Set(["ms", "s", "MiB", "MB", "bytes"]);
/** Reference figures, not peers a user would pick instead: memory and the bare host. */
const REFERENCES = new Set(["tmpfs", "host directory"]);

/**
 * Trove's figure against the best peer's in one row, as "better is above
 * 1" (a time's ratio is the peer's over Trove's), with "miss" below 1;
 * blank when the row has no peer (tmpfs and the bare host are references,
 * not peers).
 */
export function ratioCell(row: Map<string, number>, unit: string): string {
  const trove = [...row].find(([s]) => s.startsWith("trove"))?.[1];
  const peers = [...row].filter(([s]) => !s.startsWith("trove") && !REFERENCES.has(s))
    .map(([, v]) => v);
  if (trove === undefined || peers.length === 0 || trove <= 0) return "";
  const lower = LOWER_IS_BETTER.has(unit);
  const best = lower ? Math.min(...peers) : Math.max(...peers);
  if (best <= 0) return "";
  const r = lower ? best / trove : trove / best;
  return `${r.toFixed(2)}${r < 1 ? " miss" : ""}`;
}

/** Prints rows as a readable table, systems side by side, and Trove ÷ the best peer. */
export function table(rows: Row[]): string {
  const systems = [...new Set(rows.map((r) => r.system))];
  const keys = [...new Set(rows.map((r) => `${r.bench}\u0000${r.case}\u0000${r.unit}`))];
  const header = ["benchmark", "case", "unit", ...systems, "trove ÷ best peer"];
  const lines = [header];
  for (const k of keys) {
    const [bench, c, unit] = k.split("\u0000");
    const values = new Map<string, number>();
    const cells = systems.map((s) => {
      const r = rows.find((x) =>
        x.bench === bench && x.case === c && x.unit === unit && x.system === s
      );
      if (r) values.set(s, r.value);
      return r ? fmt(r.value) : "";
    });
    lines.push([bench, c, unit, ...cells, ratioCell(values, unit)]);
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  const out = lines.map((l) =>
    "| " + l.map((c, i) => (i >= 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(" | ") +
    " |"
  );
  out.splice(
    1,
    0,
    "|" + widths.map((w, i) => (i >= 3 ? "-".repeat(w + 1) + ":" : "-".repeat(w + 2))).join("|") +
      "|",
  );
  return out.join("\n");
}

/**
 * The V8 flags `deno task serve` runs Trove with, read from `deno.json`, so
 * scenarios and the servers and mounts they start measure as the tasks run.
 */
export const TASK_V8_FLAGS: string[] = String(
  JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url))).tasks.serve,
).split(/\s+/).filter((a) => a.startsWith("--v8-flags="));

/** A fresh store path under `.bench/`, with leftovers removed. */
export async function scratch(name: string): Promise<string> {
  const dir = new URL("../.bench/", import.meta.url).pathname;
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}${name}`;
  for (const s of ["", "-wal", "-shm"]) {
    await Deno.remove(path + s, { recursive: true }).catch(() => {});
  }
  return path;
}

/** Total bytes of a file or directory tree (like `du -sb`, apparent size). */
export async function treeBytes(path: string): Promise<number> {
  const st = await Deno.lstat(path);
  if (!st.isDirectory) return st.size;
  let n = 0;
  for await (const e of Deno.readDir(path)) n += await treeBytes(`${path}/${e.name}`);
  return n;
}

export { MiB };
