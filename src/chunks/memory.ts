/**
 * Memory for chunks: a pool of chunk-sized buffers, and the rule that keeps
 * dead chunk buffers from piling up outside V8's heap.
 *
 * @module
 */

import * as v8 from "node:v8";
import * as vm from "node:vm";

/**
 * Chunk buffers are big and short-lived, and V8 only collects them when its
 * JS heap (tiny here) asks for it: left alone, hundreds of MiB of dead
 * buffers pile up while streaming. So the engine counts the chunk bytes it
 * allocates and, every {@linkcode GC_EVERY} bytes, collects if V8 holds
 * more than {@linkcode GC_SLACK} bytes outside its heap beyond what the
 * last collection left (live caches and pools stay; only garbage counts).
 * Measured in `bench/` (peak RSS while streaming): these bounds keep a
 * 10 GiB stream under 256 MiB; doubling them reads about a fifth faster
 * and peaks near 280 MiB.
 *
 * The only collection a script without V8 flags can ask for is a full,
 * memory-reducing one (10–20 ms here even on a 9 MiB heap). Run with
 * `--expose-gc` (the tasks are), V8's own `gc` takes a minor collection
 * (~0.5 ms) every {@linkcode GC_EVERY} bytes instead: a streamed chunk is
 * dropped from the cache once read, so it dies young and the minor
 * collection frees it; a full one runs only when more than
 * {@linkcode GC_SLACK} of garbage outlived them.
 */
const GC_EVERY = 16 << 20;
const GC_SLACK = 24 << 20;
let collect: (() => void) | null | undefined;
let minor: (() => void) | undefined;
let allocated = 0;
let floor = 16 << 20;

/**
 * Records `bytes` of chunk buffers allocated; may run a collection (minor
 * with `--expose-gc`, else only a full one when garbage piled up).
 *
 * @example
 * ```ts
 * import { noteAllocation } from "./memory.ts";
 * noteAllocation(128 << 10); // counted; collects only past the bounds
 * ```
 */
export function noteAllocation(bytes: number): void {
  allocated += bytes;
  if (allocated < GC_EVERY) return;
  allocated = 0;
  if (collect === undefined) {
    // With `--expose-gc` the process has V8's own `gc`, which takes a minor collection.
    const exposed = (globalThis as { gc?: (o?: unknown) => void }).gc;
    if (typeof exposed === "function") {
      minor = () => exposed({ type: "minor" });
      collect = () => exposed();
    } else {
      try {
        v8.setFlagsFromString("--expose-gc");
        collect = vm.runInNewContext("gc") as typeof collect;
      } catch {
        collect = null;
      }
    }
  }
  // Most dead chunk buffers die young: a minor collection frees them for a fraction of a millisecond.
  minor?.();
  if (!collect || Deno.memoryUsage().external <= floor + GC_SLACK) return;
  collect();
  floor = Deno.memoryUsage().external;
}

/**
 * Chunk-sized buffers for reuse, at most 16 MiB of them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BufferPool } from "./memory.ts";
 * const pool = new BufferPool();
 * const b = pool.take(4096);
 * pool.give(b);
 * assert(pool.take(4096) === b);
 * ```
 */
export class BufferPool {
  readonly #buffers = new Map<number, Uint8Array[]>();
  #bytes = 0;

  /** A buffer of `size` bytes (its contents are garbage). */
  take(size: number): Uint8Array {
    const buf = this.#buffers.get(size)?.pop();
    if (!buf) return new Uint8Array(size);
    this.#bytes -= size;
    return buf;
  }

  /** Returns a whole buffer to the pool, unless the pool is full. */
  give(buf: Uint8Array): void {
    const size = buf.byteLength;
    if (buf.byteOffset !== 0 || size !== buf.buffer.byteLength) return;
    if (this.#bytes + size > 16 << 20) return;
    let list = this.#buffers.get(size);
    if (!list) this.#buffers.set(size, list = []);
    list.push(buf);
    this.#bytes += size;
  }
}
