/**
 * The free-space reserve on the disk under the store: a transaction that
 * would leave less than it free is refused with `QuotaExceeded`, so deletes
 * still work when the disk fills up.
 *
 * @module
 */

import { statfsSync } from "node:fs";
import { QuotaExceeded } from "../errors.ts";

/**
 * Watches the free space of the file system holding `path`.
 *
 * @example
 * ```ts
 * import { DiskReserve } from "./disk.ts";
 * const reserve = new DiskReserve(":memory:");
 * reserve.check(1 << 20); // an in-memory store has no disk to watch
 * ```
 */
export class DiskReserve {
  readonly #path: string;
  readonly #reserve?: number;
  #statfs = true;
  #budget = 0;
  #checked = 0;

  /** `reserveBytes` defaults to 1% of the file system, at least 8 and at most 64 MiB. */
  constructor(path: string, reserveBytes?: number) {
    this.#path = path;
    this.#reserve = reserveBytes;
  }

  /**
   * Refuses, with `QuotaExceeded`, a transaction adding `bytes` of content
   * when that would leave less than the reserve free. After a check it
   * lets an eighth of the remaining slack (or two seconds) pass unchecked,
   * so small writes do not pay two system calls each.
   */
  check(bytes: number): void {
    if (!this.#statfs || bytes <= 0 || this.#path === ":memory:") return;
    if (bytes < this.#budget && Date.now() - this.#checked < 2000) {
      this.#budget -= bytes;
      return;
    }
    let free: number;
    let total: number;
    try {
      const path = this.#path;
      const s = statfsSync(path.includes("/") ? path.slice(0, path.lastIndexOf("/")) || "/" : ".");
      free = s.bavail * s.bsize;
      total = s.blocks * s.bsize;
    } catch {
      this.#statfs = false; // no permission or no support: rely on SQLITE_FULL
      return;
    }
    const reserve = this.#reserve ?? Math.min(64 << 20, Math.max(8 << 20, total / 100));
    // New bytes go to the WAL first and to the main file at the checkpoint,
    // which also needs room for whatever the WAL holds already.
    let wal = 0;
    try {
      wal = Deno.statSync(this.#path + "-wal").size;
    } catch { /* no WAL yet */ }
    const slack = free - wal - reserve - 2 * bytes;
    if (slack < 0) {
      this.#budget = 0;
      throw new QuotaExceeded(
        `the disk holding the store is full (${free} bytes free, ${reserve} kept in reserve for deletes)`,
      );
    }
    this.#budget = Math.min(256 << 20, slack / 8);
    this.#checked = Date.now();
  }
}
