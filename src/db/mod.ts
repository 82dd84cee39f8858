/**
 * The SQLite file: one connection per store (`db.ts`: pragmas, cached
 * statements, transactions with before-commit hooks), the format's history
 * and how rooms add to it (`schema.ts`, `rooms.ts`: a room's migrations,
 * invariants and volume removal), and the background checkpointer with its
 * Worker (`checkpointer.ts`, `checkpoint_worker.ts`).
 *
 * May import: src/errors.ts.
 *
 * @module
 */

export { Db, type DbOptions } from "./db.ts";
export { APPLICATION_ID, composeMigrations } from "./schema.ts";
export { type CheckContext, count, type Finding, type Invariant, type Room } from "./rooms.ts";
export { Checkpointer } from "./checkpointer.ts";
