/**
 * Operation statistics and the slow-remote emulator. Every KV store and
 * volume counts its calls per operation — how many, how long in total
 * and on average, bytes in and out — and a store opened with an
 * emulated latency (µs per call) or bandwidth (bit/s), or with
 * `TROVE_LATENCY` / `TROVE_BANDWIDTH` set, waits that long in each KV
 * call and each chunk backend call, so an application can be tried
 * against a slow remote. The waits count in the times.
 *
 * @module
 */

import { InvalidArgument } from "../errors.ts";
import type { ChunkBackend } from "../chunks/api.ts";

/** The counters of one operation. */
export interface OpCounters {
  calls: number;
  /** Calls that failed. */
  errors: number;
  /** Time spent in the calls, emulated waits included (ms). */
  totalMs: number;
  /** `totalMs / calls`. */
  meanMs: number;
  /** Bytes handed to the store (values, file data). */
  bytesIn: number;
  /** Bytes handed back. */
  bytesOut: number;
}

/** A snapshot of statistics: per operation and in total. */
export interface Stats {
  /** Since when the counters run (ms since the epoch). */
  since: number;
  ops: Record<string, OpCounters>;
  total: OpCounters & {
    /** Bytes in and out per second of time spent in calls. */
    throughputBytesPerSec: number;
  };
  /** Emulated waits (µs per call, bit/s), when on. */
  emulation: Emulation | null;
}

/** A slow remote to emulate: latency per call and bandwidth. */
export interface Emulation {
  /** Added to every call, in microseconds. */
  latencyUs?: number;
  /** Bytes moved take `bytes × 8 / bandwidthBps` seconds more. */
  bandwidthBps?: number;
}

function checkEmulation(e: Emulation): Emulation | null {
  for (const [k, v] of Object.entries(e)) {
    if (v === undefined) continue;
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
      throw new InvalidArgument(`${k} must be a number of at least 0`);
    }
    if (k === "bandwidthBps" && v === 0) throw new InvalidArgument("bandwidthBps must be above 0");
  }
  return e.latencyUs || e.bandwidthBps ? e : null;
}

/**
 * The emulation in effect: `options` when given, else `TROVE_LATENCY` (µs)
 * and `TROVE_BANDWIDTH` (bit/s) from the environment; null for none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emulationFrom } from "./stats.ts";
 * assert.deepEqual(emulationFrom({ latencyUs: 500 }), { latencyUs: 500 });
 * assert(emulationFrom({}) === null || Deno.env.get("TROVE_LATENCY") !== undefined);
 * ```
 */
export function emulationFrom(options: Emulation = {}): Emulation | null {
  if (options.latencyUs !== undefined || options.bandwidthBps !== undefined) {
    return checkEmulation(options);
  }
  let env: Record<string, string | undefined> = {};
  try {
    env = { l: Deno.env.get("TROVE_LATENCY"), b: Deno.env.get("TROVE_BANDWIDTH") };
  } catch {
    return null; // no --allow-env: no emulation from the environment
  }
  const num = (name: string, s: string | undefined) => {
    if (s === undefined || s === "") return undefined;
    const n = Number(s);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgument(`${name} must be a number`, s);
    return n;
  };
  return checkEmulation({
    latencyUs: num("TROVE_LATENCY", env.l),
    bandwidthBps: num("TROVE_BANDWIDTH", env.b),
  });
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** The wait for one call moving `bytes` (ms). */
function delayMs(e: Emulation, bytes: number): number {
  return (e.latencyUs ?? 0) / 1000 + (e.bandwidthBps ? bytes * 8 / e.bandwidthBps * 1000 : 0);
}

/** Blocks the thread for the emulated wait (synchronous seams). */
export function waitSync(e: Emulation | null, bytes: number): void {
  if (!e) return;
  const ms = delayMs(e, bytes);
  if (ms > 0) Atomics.wait(sleeper, 0, 0, ms);
}

/** Waits for the emulated time without blocking other work (async APIs). */
export function wait(e: Emulation | null, bytes: number): Promise<void> | void {
  if (!e) return;
  const ms = delayMs(e, bytes);
  if (ms < 4) return waitSync(e, bytes); // timers are too coarse for short waits
  return new Promise((r) => setTimeout(r, ms));
}

function zero(): OpCounters {
  return { calls: 0, errors: 0, totalMs: 0, meanMs: 0, bytesIn: 0, bytesOut: 0 };
}

/**
 * Counters per operation, and the emulation its owner applies.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OpStats } from "./stats.ts";
 * const stats = new OpStats(null);
 * await stats.time("get", () => new Uint8Array(10), { out: (v) => v.length });
 * assert(stats.snapshot().ops.get.bytesOut === 10);
 * ```
 */
export class OpStats {
  readonly emulation: Emulation | null;
  #since = Date.now();
  #ops = new Map<string, OpCounters>();

  constructor(emulation: Emulation | null) {
    this.emulation = emulation;
  }

  #op(name: string): OpCounters {
    let c = this.#ops.get(name);
    if (!c) this.#ops.set(name, c = zero());
    return c;
  }

  /** Counts one call that took `ms` and moved these bytes. */
  add(name: string, ms: number, bytesIn = 0, bytesOut = 0, failed = false, more = false): void {
    const c = this.#op(name);
    if (!more) c.calls++; // `more`: bytes of a call already counted
    c.totalMs += ms;
    c.bytesIn += bytesIn;
    c.bytesOut += bytesOut;
    if (failed) c.errors++;
  }

  /**
   * Runs and counts one call of `name`, after the emulated wait for `in`
   * bytes, and for the bytes `out` says the result holds (no waits with
   * `wait: false`: a volume's slow part is its chunk backend).
   */
  async time<T>(
    name: string,
    fn: () => Promise<T> | T,
    bytes: { in?: number; out?: (result: T) => number; wait?: boolean } = {},
  ): Promise<T> {
    const t0 = performance.now();
    let out = 0;
    const e = bytes.wait === false ? null : this.emulation;
    try {
      if (e) await wait(e, bytes.in ?? 0);
      const result = await fn();
      out = bytes.out?.(result) ?? 0;
      if (out && e) await wait({ bandwidthBps: e.bandwidthBps }, out);
      this.add(name, performance.now() - t0, bytes.in, out);
      return result;
    } catch (e) {
      this.add(name, performance.now() - t0, 0, 0, true);
      throw e;
    }
  }

  /** The counters now. */
  snapshot(): Stats {
    const ops: Record<string, OpCounters> = {};
    const total = zero();
    for (const [name, c] of [...this.#ops].sort(([a], [b]) => a < b ? -1 : 1)) {
      ops[name] = { ...c, meanMs: c.calls ? c.totalMs / c.calls : 0 };
      for (const k of ["calls", "errors", "totalMs", "bytesIn", "bytesOut"] as const) {
        total[k] += c[k];
      }
    }
    total.meanMs = total.calls ? total.totalMs / total.calls : 0;
    const secs = total.totalMs / 1000;
    return {
      since: this.#since,
      ops,
      total: {
        ...total,
        throughputBytesPerSec: secs > 0 ? (total.bytesIn + total.bytesOut) / secs : 0,
      },
      emulation: this.emulation,
    };
  }

  /** Starts the counters again. */
  reset(): void {
    this.#ops.clear();
    this.#since = Date.now();
  }
}

/**
 * A chunk backend that waits the emulated time in each call and counts
 * them. It keeps no chunk inline, so every chunk's bytes pass through it.
 */
export function emulatedBackend(inner: ChunkBackend, stats: OpStats): ChunkBackend {
  const e = stats.emulation;
  const timed = <T>(name: string, bytes: number, fn: () => T, out?: (r: T) => number): T => {
    const t0 = performance.now();
    waitSync(e, bytes);
    const r = fn();
    const o = out?.(r) ?? 0;
    if (o) waitSync({ bandwidthBps: e?.bandwidthBps }, o);
    stats.add(name, performance.now() - t0, bytes, o);
    return r;
  };
  return {
    name: `${inner.name} (emulated)`,
    transactional: inner.transactional,
    inlineBytes: e ? 0 : inner.inlineBytes,
    has: (ids) => timed("has", 0, () => inner.has(ids)),
    get: (id) => timed("get", 0, () => inner.get(id), (b) => b?.length ?? 0),
    put: (id, bytes) => timed("put", bytes.length, () => inner.put(id, bytes)),
    delete: (ids) => timed("delete", 0, () => inner.delete(ids)),
    sweep: inner.sweep ? () => inner.sweep!() : undefined,
  };
}

/**
 * Volume methods counted in `vol.stats()`, with the bytes each moves (the
 * text and `exists` helpers count as the calls they make; a streamed
 * `writeFile` adds its bytes as they are written).
 */
const METERED: Record<string, { in?: (args: unknown[]) => number; out?: (r: unknown) => number }> =
  {
    stat: {},
    lstat: {},
    readFile: { out: (r) => (r as Uint8Array).length },
    writeFile: { in: (a) => a[1] instanceof Uint8Array ? a[1].length : 0 },
    open: {},
    mkdir: {},
    remove: {},
    rename: {},
    copy: {},
    copyFile: {},
    truncate: {},
    symlink: {},
    link: {},
    chmod: {},
    chown: {},
    utime: {},
    getXattr: { out: (r) => (r as Uint8Array).length },
    setXattr: { in: (a) => a[2] instanceof Uint8Array ? a[2].length : 0 },
  };

/** Wraps `target`'s metered methods so each call counts in `stats`. */
export function meter(target: object, stats: OpStats): void {
  const t = target as Record<string, unknown>;
  for (const [name, bytes] of Object.entries(METERED)) {
    const fn = t[name];
    if (typeof fn !== "function") continue;
    t[name] = function (this: unknown, ...args: unknown[]) {
      return stats.time(name, () => fn.apply(this, args), {
        in: bytes.in?.(args),
        out: bytes.out,
        wait: false,
      });
    };
  }
}
