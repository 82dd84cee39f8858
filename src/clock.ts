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
 * import { ManualClock } from "./clock.ts";
 * const clock = new ManualClock(1_000_000);
 * clock.advance(5_000);
 * console.assert(clock.now() === 1_005_000);
 * ```
 */
export class ManualClock implements Clock {
  #now: number;

  constructor(start: number = Date.now()) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** Moves the clock forward by `ms` milliseconds. */
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
 * import { nowNs } from "./clock.ts";
 * const a = nowNs();
 * console.assert(nowNs() > a);
 * ```
 */
export function nowNs(): bigint {
  const ms = performance.timeOrigin + performance.now();
  let ns = BigInt(Math.round(ms * 1000)) * 1000n;
  if (ns <= lastNs) ns = lastNs + 1n;
  lastNs = ns;
  return ns;
}
