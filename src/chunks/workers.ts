/**
 * A small pool of codec Workers so hashing and compression run beside the
 * main thread, which keeps SQLite. Workers start on demand and stop after a
 * short idle spell, so a script that forgets to close its store still exits.
 *
 * @module
 */

import { ChunkCodec, type CodecConfig, type EncodedChunk } from "./codec.ts";
import { Corrupt, TroveError } from "../errors.ts";

/** An encoded chunk and the buffer it was encoded from, handed back. */
export interface Encoded {
  enc: EncodedChunk;
  /** The caller's buffer, returned; `enc.data` may be a view into it. */
  buf: Uint8Array;
}

interface Pending {
  // deno-lint-ignore no-explicit-any
  resolve(r: any): void;
  reject(e: unknown): void;
  worker: Slot;
}

interface Slot {
  worker: Worker;
  busy: number;
  /** Resolves true once the Worker runs, false if it failed to start. */
  ready: Promise<boolean>;
  /** Set while the Worker closes its connections before it ends. */
  retiring?: () => void;
}

/** How long a Worker may take to close its connections before it is ended anyway. */
const RETIRE_MS = 2000;

const IDLE_MS = 400;

function rebuildError(e: { name: string; message: string }): Error {
  if (e.name === "Corrupt") return new Corrupt(e.message);
  const err = new TroveError(e.message);
  err.name = e.name;
  return err;
}

/** Runs chunk encoding on Workers. */
export class CodecPool {
  readonly size: number;
  #slots: Slot[] = [];
  #pending = new Map<number, Pending>();
  #seq = 0;
  #idle?: ReturnType<typeof setTimeout>;
  #closed = false;
  /** Set when a Worker could not start (no permission, say): work stays here. */
  #broken = false;

  /** Jobs sent and not yet answered, across all Workers. */
  get busy(): number {
    return this.#pending.size;
  }

  /**
   * True when every Worker already has `depth` jobs queued: better to do
   * the next one on the calling thread. A round trip costs about 0.5 ms, so
   * loads want a deep queue; encodes, which the calling thread can share,
   * a shallow one.
   */
  saturated(depth = 2): boolean {
    return this.#pending.size >= depth * this.size;
  }

  /** `size` Workers at most (default: one per core but one, for the main thread). */
  constructor(size: number = Math.max(1, (navigator.hardwareConcurrency || 2) - 1)) {
    this.size = Math.max(1, size);
  }

  /**
   * Encodes the first `len` bytes of `buf` on a Worker. The whole buffer is
   * transferred (not copied) and handed back in the result, so the caller
   * must not touch it meanwhile.
   */
  async encode(config: CodecConfig, buf: Uint8Array, len: number): Promise<Encoded> {
    const here = () => ({ enc: new ChunkCodec(config).encode(buf.subarray(0, len)), buf });
    if (this.#closed || this.#broken) return here();
    if (buf.byteOffset !== 0 || buf.byteLength !== buf.buffer.byteLength) {
      buf = buf.slice();
    }
    clearTimeout(this.#idle);
    const slot = this.#pick();
    slot.busy++;
    if (!(await slot.ready)) {
      slot.busy--;
      return here();
    }
    const seq = ++this.#seq;
    return await new Promise((resolve, reject) => {
      this.#pending.set(seq, { resolve, reject, worker: slot });
      slot.worker.postMessage({ seq, op: "encode", config, buf, len }, [
        buf.buffer as ArrayBuffer,
      ]);
    });
  }

  /**
   * Loads chunk `chunk` on a Worker, through its own read-only connection,
   * and decodes it (opening, decompressing and checking it as
   * `ChunkCodec.decode` does). Resolves to null when the Worker cannot see
   * the chunk (not committed yet) or has no connection.
   */
  async load(config: CodecConfig, chunk: number): Promise<Uint8Array | null> {
    if (this.#closed || this.#broken || !config.storePath) return null;
    clearTimeout(this.#idle);
    const slot = this.#pick();
    slot.busy++;
    if (!(await slot.ready)) {
      slot.busy--;
      return null;
    }
    const seq = ++this.#seq;
    return await new Promise((resolve, reject) => {
      this.#pending.set(seq, {
        resolve: (r: { plain: Uint8Array | null }) => resolve(r.plain),
        reject,
        worker: slot,
      });
      slot.worker.postMessage({ seq, op: "load", config, chunk, buf: null, len: 0 });
    });
  }

  #pick(): Slot {
    let best: Slot | undefined;
    for (const s of this.#slots) if (!best || s.busy < best.busy) best = s;
    if (best && (best.busy === 0 || this.#slots.length >= this.size)) return best;
    const worker = new Worker(new URL("./codec_worker.ts", import.meta.url), {
      type: "module",
    });
    let started!: (ok: boolean) => void;
    const slot: Slot = { worker, busy: 0, ready: new Promise((r) => started = r) };
    worker.onmessage = (e) => {
      if (e.data?.ready) started(true);
      else if (e.data?.closed) slot.retiring?.();
      else this.#reply(e.data);
    };
    worker.onerror = (e) => {
      e.preventDefault();
      started(false);
      this.#broken = true;
      this.#fail(slot, new Error(`codec worker failed: ${e.message}`));
    };
    this.#slots.push(slot);
    return slot;
  }

  #reply(data: {
    seq: number;
    enc?: EncodedChunk;
    buf?: Uint8Array;
    plain?: Uint8Array;
    error?: { name: string; message: string };
  }): void {
    const p = this.#pending.get(data.seq);
    if (!p) return;
    this.#pending.delete(data.seq);
    p.worker.busy--;
    if (data.error) p.reject(Object.assign(rebuildError(data.error), { buf: data.buf }));
    else if ("plain" in data) p.resolve({ plain: data.plain });
    else p.resolve({ enc: data.enc!, buf: data.buf! });
    this.#maybeIdle();
  }

  #fail(slot: Slot, error: Error): void {
    for (const [seq, p] of this.#pending) {
      if (p.worker === slot) {
        this.#pending.delete(seq);
        p.reject(error);
      }
    }
    slot.worker.terminate();
    this.#slots = this.#slots.filter((s) => s !== slot);
  }

  #maybeIdle(): void {
    if (this.#pending.size > 0) return;
    clearTimeout(this.#idle);
    const idle = setTimeout(() => this.#stopWorkers(), IDLE_MS);
    Deno.unrefTimer(idle);
    this.#idle = idle;
  }

  #stopWorkers(): void {
    if (this.#pending.size > 0) return;
    for (const s of this.#slots) void this.#retire(s);
    this.#slots = [];
  }

  /**
   * Ends a Worker after it closed its read-only connections: a connection
   * left open would keep the store's last close from folding the log into
   * the file (a pack renamed into place would then miss its last commits).
   */
  #retire(slot: Slot): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        slot.worker.terminate();
        resolve();
      };
      const timer = setTimeout(done, RETIRE_MS);
      slot.retiring = done;
      try {
        slot.worker.postMessage({ op: "close" });
      } catch {
        done();
      }
    });
  }

  /**
   * Stops every Worker, once each closed its connections; later calls
   * encode on the calling thread.
   */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#idle);
    const slots = this.#slots;
    this.#slots = [];
    for (const [seq, p] of this.#pending) {
      this.#pending.delete(seq);
      p.reject(new Error("codec pool closed"));
    }
    await Promise.all(slots.map((s) => this.#retire(s)));
  }
}
