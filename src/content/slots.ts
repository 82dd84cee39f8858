/**
 * The chunk slots an open file has written since its base version: each
 * slot's plaintext in a pooled buffer, encoded on a codec Worker as soon as
 * it fills (or on this thread, for small ones, when the file commits). A
 * Worker's failure is kept and reported to the next write or commit.
 *
 * @module
 */

import type { ChunkCodec, EncodedChunk } from "../chunks/codec.ts";
import { noteAllocation } from "../chunks/memory.ts";
import type { Core } from "../core/core.ts";
import { Busy } from "../errors.ts";

/** Below this size a chunk is encoded on the calling thread. */
export const INLINE_ENCODE_BYTES = 64 << 10;

/** One chunk slot written since the base version. */
export interface Slot {
  /** Plaintext, from the buffer pool; null while a Worker holds it. */
  buf: Uint8Array | null;
  /** Bytes of data; the rest of the slot reads as zeros. */
  len: number;
  /** The Worker round trip in flight, if any. */
  job: Promise<void> | null;
  /** The encoding of the current contents, if done. */
  enc: EncodedChunk | null;
}

/** A file's written slots, by index. */
export class Slots {
  readonly #core: Core;
  readonly #codec: ChunkCodec;
  readonly #label: string;
  readonly #map = new Map<number, Slot>();
  #failure: Error | null = null;

  /** `label` names the file in errors. */
  constructor(core: Core, codec: ChunkCodec, label: string) {
    this.#core = core;
    this.#codec = codec;
    this.#label = label;
  }

  get size(): number {
    return this.#map.size;
  }

  get(idx: number): Slot | undefined {
    return this.#map.get(idx);
  }

  has(idx: number): boolean {
    return this.#map.has(idx);
  }

  /** Every slot, by index, as a snapshot (safe to drop slots while iterating). */
  entries(): [number, Slot][] {
    return [...this.#map];
  }

  /** A new, empty slot of `size` bytes at `idx`. */
  add(idx: number, size: number): Slot {
    const slot: Slot = { buf: this.#core.buffers.take(size), len: 0, job: null, enc: null };
    this.#map.set(idx, slot);
    return slot;
  }

  /** Forgets a slot and returns its buffer to the pool. */
  drop(idx: number, slot: Slot): void {
    this.#map.delete(idx);
    if (slot.buf) this.#core.buffers.give(slot.buf);
    slot.buf = null;
  }

  /** Forgets every slot and a past failure. */
  clear(): void {
    for (const [idx, s] of this.entries()) this.drop(idx, s);
    this.#failure = null;
  }

  /** Throws `Busy` when a Worker lost a slot's data. */
  checkFailure(): void {
    if (this.#failure) {
      throw new Busy(
        `encoding failed, uncommitted writes are lost: ${this.#failure.message}`,
        this.#label,
      );
    }
  }

  /** Waits until no Worker holds `slot`'s buffer. */
  async idle(slot: Slot): Promise<void> {
    while (slot.job) await slot.job;
    this.checkFailure();
  }

  /** Waits until no Worker holds the buffers of slots in a byte range. */
  async settle(from: number, to: number, chunkSize: number): Promise<void> {
    for (const [idx, slot] of this.#map) {
      if (slot.job && idx * chunkSize < to && (idx + 1) * chunkSize > from) await this.idle(slot);
    }
  }

  /**
   * Hands a slot's buffer to a Worker to encode. (Encoding on this thread
   * when the Worker lags was measured slower: this thread's time is better
   * spent inserting.)
   */
  seal(slot: Slot): void {
    const buf = slot.buf!;
    slot.buf = null;
    slot.job = this.#core.pool.encode(this.#codec.config, buf, slot.len).then(
      (r) => {
        noteAllocation(r.enc.data.buffer === r.buf.buffer ? 0 : r.enc.data.length);
        slot.buf = r.buf;
        slot.enc = r.enc;
        slot.job = null;
      },
      (e) => {
        slot.buf = (e as { buf?: Uint8Array }).buf ?? null;
        slot.job = null;
        if (!slot.buf && [...this.#map.values()].includes(slot)) this.#failure = e as Error;
      },
    );
  }

  /** Encodes every slot not encoded yet (big ones on Workers) and waits. */
  async sealAll(): Promise<void> {
    for (const s of this.#map.values()) {
      if (s.enc || s.job) continue;
      if (s.len > INLINE_ENCODE_BYTES) this.seal(s);
      else s.enc = this.#codec.encode(s.buf!.subarray(0, s.len));
    }
    for (const s of this.#map.values()) await this.idle(s);
  }

  /** Encodes a slot on this thread (its Worker encoding was only a hint). */
  reencode(slot: Slot): EncodedChunk {
    return slot.enc = this.#codec.encode(slot.buf!.subarray(0, slot.len));
  }

  /** The slots whose encoding is ready, and the bytes they hold. */
  ready(): { slots: [number, Slot][]; bytes: number } {
    const slots = [...this.#map].filter(([, s]) => s.enc && !s.job);
    return { slots, bytes: slots.reduce((n, [, s]) => n + s.len, 0) };
  }

  /** A slot a Worker is still encoding, if any. */
  busy(): Slot | undefined {
    return [...this.#map.values()].find((s) => s.job);
  }
}
