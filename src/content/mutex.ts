/**
 * A FIFO mutex: one open file's reads, writes and commits run one at a time.
 *
 * @module
 */

/**
 * Runs functions one after another, in the order they were handed in.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Mutex } from "./mutex.ts";
 * const m = new Mutex();
 * const order: number[] = [];
 * await Promise.all([m.run(async () => order.push(1)), m.run(() => order.push(2))]);
 * assert(order.join() === "1,2");
 * ```
 */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();

  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    const prev = this.#tail;
    let release!: () => void;
    this.#tail = new Promise((r) => release = r);
    await prev;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
