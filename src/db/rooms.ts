/**
 * How a room (a concern of the engine: chunks, tree, content, locks, …)
 * plugs into the store without the store knowing its tables: the schema
 * changes it makes, the invariants `check` verifies and repairs, and what
 * removing a volume deletes of its rows. `src/store/rooms.ts` lists the
 * rooms; adding one adds a file there, not code to `check()` or `Store`.
 *
 * @module
 */

import type { Db } from "./db.ts";

/** One problem an invariant found. */
export interface Finding {
  /** A stable code, e.g. `refcount`, `orphan-chunk`. */
  code: string;
  message: string;
  /** Repairs it without guessing (runs inside a transaction); absent for damage. */
  fix?: () => void;
}

/** What an invariant may look at. */
export interface CheckContext {
  db: Db;
  /** Nodes this process holds open (they may have no links yet). */
  openNodes: ReadonlySet<number>;
  /** Every room's query of the chunk ids its rows reference (see `Room.chunkRefs`). */
  chunkRefs: readonly string[];
}

/** A rule of the on-disk format that `check` verifies. */
export interface Invariant {
  /** What must hold, in a line (the README's format section lists them). */
  readonly rule: string;
  find(ctx: CheckContext): Finding[];
}

/** A room's share of the schema, the checks and volume removal. */
export interface Room {
  readonly name: string;
  /**
   * SQL by the store format version it takes a store to (4, 5, …).
   * Versions 1–3 predate rooms and stay as released (`schema.ts`).
   * Never edit a released entry; add a version.
   */
  readonly migrations?: Readonly<Record<number, string>>;
  readonly invariants?: readonly Invariant[];
  /**
   * A query (`SELECT chunk FROM …`) of the chunks the room's rows hold a
   * reference on, one row per reference: the pool's reference counts must
   * equal them all.
   */
  readonly chunkRefs?: string;
  /** Deletes the room's rows of volume `volume` (inside the removal's transaction). */
  removeVolume?(db: Db, volume: number): void;
  /**
   * Volume rows that exist only for volume `volume` (its snapshots): they
   * are removed with it, each the way a volume is, before it.
   */
  dependents?(db: Db, volume: number): number[];
}

/** A count from a query, for invariants. */
export function count(db: Db, sql: string, ...params: (number | bigint)[]): number {
  return Number(db.value(sql, ...params) ?? 0);
}
