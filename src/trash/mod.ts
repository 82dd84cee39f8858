/**
 * The trash: what `remove` (and the mount's `unlink`, and WebDAV's
 * `DELETE`) takes away stays, listable and restorable, until its retention
 * period ends, the trash passes its size cap, or the volume needs the room.
 * A trashed node hangs under a hidden per-volume directory (the trash root,
 * reachable from no volume root), named `ID-NAME`; a trashed file has no
 * links, as POSIX expects after its last unlink (`trash.ts`, the volume's
 * `TreePolicy`). Its tables, invariants and removal: `room.ts`.
 *
 * May import: `src/db/`, `src/tree/`, `src/errors.ts`, `src/paths.ts`,
 * `src/types.ts`, `src/clock.ts`.
 *
 * @module
 */

export {
  DEFAULT_TRASH,
  expireTrash,
  findTrash,
  purgeTrash,
  rootOf,
  TrashPolicy,
  type TrashRow,
  trashRows,
  trashSettings,
  undelete,
  writeTrashSettings,
} from "./trash.ts";
export { trashRoom } from "./room.ts";
