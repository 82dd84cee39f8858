/**
 * Time as an input. Everything that expires — locks, sessions, trash —
 * reads the store's {@linkcode Clock}, passed in `Store.open(path, { clock })`,
 * never `Date.now()` itself, so tests move time forward instead of
 * sleeping. File times (mtime, ctime) are not expiries and come from the
 * system clock ({@linkcode nowNs}).
 *
 * @module
 */

/** Milliseconds since the epoch, on demand. */
export interface Clock {
  now(): number;
}

/** The system clock. */
export const systemClock: Clock = { now: () => Date.now() };

/**
 * A clock that moves only when told to, for tests of expiry.
 *
 * @example Expire a lock without waiting
 * ```ts
 * import assert from "node:assert/strict";
 * import { ManualClock } from "./clock.ts";
 * const clock = new ManualClock(1_000_000);
 * clock.advance(5_000);
 * assert(clock.now() === 1_005_000);
 * ```
 */
export class ManualClock implements Clock {
  #now: number;

  constructor(start: number = Date.now()) {
    this.#now = start;
  }

  /**
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ManualClock } from "./clock.ts";
   * assert(new ManualClock(42).now() === 42);
   * ```
   */
  now(): number {
    return this.#now;
  }

  /**
   * Moves the clock forward by `ms` milliseconds.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ManualClock, Store } from "../mod.ts";
   * const clock = new ManualClock();
   * await using store = await Store.open(":memory:", { create: true, clock });
   * const vol = await store.volume();
   * await vol.locks.lock("/a", { depth: 0, scope: "exclusive", timeoutSeconds: 60 });
   * clock.advance(61_000);
   * assert((await vol.locks.covering("/a")).length === 0);
   * ```
   */
  advance(ms: number): void {
    this.#now += ms;
  }
}

let lastNs = 0n;

/**
 * Nanoseconds since the epoch, strictly increasing within the process:
 * file times, which must order the changes a process makes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nowNs } from "./clock.ts";
 * const a = nowNs();
 * assert(nowNs() > a);
 * ```
 */
export function nowNs(): bigint {
  const ms = performance.timeOrigin + performance.now();
  let ns = BigInt(Math.round(ms * 1000)) * 1000n;
  if (ns <= lastNs) ns = lastNs + 1n;
  lastNs = ns;
  return ns;
}
