/**
 * Snapshots: a whole volume frozen at a moment, read-only, sharing every
 * chunk. A snapshot is a volume row of its own (hidden from volume lists)
 * whose nodes, entries, versions, extents and extended attributes are
 * copies of the live volume's metadata made in one transaction; its
 * extents reference the live volume's chunks, so no content byte is copied
 * and chunk reference counts keep what it holds alive (`snapshots.ts`).
 * Restoring and comparing walk two trees (`restore.ts`); the table, its
 * invariants and volume removal (`room.ts`).
 *
 * May import: `src/db/`, `src/tree/`, `src/content/`, `src/errors.ts`,
 * `src/paths.ts`, `src/types.ts`, `src/clock.ts`.
 *
 * @module
 */

export {
  createSnapshot,
  dropSnapshot,
  listSnapshots,
  snapshotByName,
  snapshotRanges,
  type SnapshotRecord,
} from "./snapshots.ts";
export { snapshotsRoom } from "./room.ts";
