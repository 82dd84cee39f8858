/**
 * Consistency and garbage: `check.ts` runs SQLite's own check, every
 * room's invariants and (with `verify`) every chunk; `gc.ts` reaps dead
 * sessions and orphans, drains the chunk delete queue and shrinks the file.
 *
 * May import: `src/chunks/`, `src/content/`, `src/core/`, `src/db/`.
 *
 * @module
 */

export { check, type CheckOptions, type CheckProblem, type CheckReport } from "./check.ts";
export { gc, type GcReport, reap } from "./gc.ts";
