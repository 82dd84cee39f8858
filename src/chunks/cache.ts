/**
 * A bounded cache of decoded chunks, least recently used first out, with
 * the decodes in flight on the codec Workers (read-ahead).
 *
 * @module
 */

/**
 * Decoded chunks by chunk id.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChunkCache } from "./cache.ts";
 * const cache = new ChunkCache(1 << 20);
 * cache.set(1, new Uint8Array(10));
 * assert(cache.has(1) && cache.get(1)?.length === 10);
 * ```
 */
export class ChunkCache {
  readonly limit: number;
  #bytes = 0;
  #map = new Map<number, Uint8Array>();
  /** Decodes in flight on the Workers (read-ahead), by chunk id. */
  readonly loading: Map<number, Promise<void>> = new Map();

  constructor(limitBytes: number) {
    this.limit = limitBytes;
  }

  get(id: number): Uint8Array | undefined {
    const v = this.#map.get(id);
    if (v) {
      this.#map.delete(id);
      this.#map.set(id, v);
    }
    return v;
  }

  /** Keeps a decoded chunk (not one bigger than a quarter of the cache). */
  set(id: number, plain: Uint8Array): void {
    if (plain.length > this.limit / 4) return;
    if (this.#map.has(id)) return;
    this.#map.set(id, plain);
    this.#bytes += plain.length;
    for (const [k, v] of this.#map) {
      if (this.#bytes <= this.limit) break;
      this.#map.delete(k);
      this.#bytes -= v.length;
    }
  }

  /** Drops an entry (a streamed chunk that is not read again). */
  forget(id: number): void {
    const v = this.#map.get(id);
    if (!v) return;
    this.#map.delete(id);
    this.#bytes -= v.length;
  }

  has(id: number): boolean {
    return this.#map.has(id);
  }

  clear(): void {
    this.#map.clear();
    this.#bytes = 0;
  }
}
