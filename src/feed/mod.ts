/**
 * The change feed: one row per commit per volume, written in the same
 * transaction (`feed.ts`), read as `vol.changes({ since })`; its table and
 * retention (`room.ts`).
 *
 * May import: `src/db/`, `src/clock.ts`.
 *
 * @module
 */

export { Change, ChangeFeed, type ChangeKind, type ChangeRecord, readChanges } from "./feed.ts";
export { feedRoom } from "./room.ts";
