/**
 * A volume's namespace by node id: the node rows and their public view
 * (`nodes.ts`), lookups, path resolution through symlinks and listings
 * (`tree.ts` — change path resolution here), creating, linking,
 * unlinking, renaming and removing entries (`entries.ts`), extended
 * attributes (`xattrs.ts`), and the room's invariants (`room.ts`).
 *
 * May import: `src/core/`, `src/crypto/meta.ts` (types), `src/db/`, `src/feed/`, `src/paths.ts`,
 * `src/clock.ts`, `src/errors.ts`, `src/types.ts`.
 *
 * @module
 */

export { fileInfo, Kind, type NodeRow, type VolumeRecord } from "./nodes.ts";
export { type Resolved, Tree } from "./tree.ts";
export { Entries, type Place } from "./entries.ts";
export { Xattrs } from "./xattrs.ts";
export { treeRoom } from "./room.ts";
