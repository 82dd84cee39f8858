/**
 * File content, copy-on-write: an open file's state (`file_content.ts`),
 * its written slots and their Worker encodes (`slots.ts`), read-ahead
 * (`read_ahead.ts`), and `versions.ts`, the only place that installs,
 * prunes and restores a version (change retention here). `limits.ts`
 * holds the largest file; `room.ts` the invariants of versions and extents.
 *
 * May import: `src/chunks/`, `src/core/`, `src/tree/`, `src/feed/`, `src/db/`, `src/clock.ts`,
 * `src/errors.ts`, `src/types.ts`.
 *
 * @module
 */

export { FileContent } from "./file_content.ts";
export { MAX_FILE_SIZE, tooLarge } from "./limits.ts";
export {
  commitChunks,
  copyVersion,
  installVersion,
  listVersions,
  restoreVersion,
} from "./versions.ts";
export { contentRoom } from "./room.ts";
