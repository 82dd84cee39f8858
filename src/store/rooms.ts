/**
 * The rooms of a store, in the order their migrations and removals run: a
 * new room adds its descriptor here (its tables' migrations, the
 * invariants `check` verifies, what removing a volume deletes), and
 * neither `check()` nor `Store` changes.
 *
 * @module
 */

import { contentRoom } from "../content/room.ts";
import { chunksRoom } from "../chunks/room.ts";
import { sessionsRoom } from "../core/sessions.ts";
import { keysRoom } from "../crypto/keys.ts";
import { kvRoom } from "../kv/room.ts";
import type { Room } from "../db/rooms.ts";
import { composeMigrations } from "../db/schema.ts";
import { feedRoom } from "../feed/room.ts";
import { locksRoom } from "../locks/locks.ts";
import { overlayRoom } from "../overlay/room.ts";
import { snapshotsRoom } from "../snapshots/room.ts";
import { trashRoom } from "../trash/room.ts";
import { treeRoom } from "../tree/room.ts";

/** Every room. A volume's rows go in this order: nodes first, then what they referenced. */
export const ROOMS: readonly Room[] = [
  sessionsRoom,
  treeRoom,
  contentRoom,
  kvRoom,
  chunksRoom,
  keysRoom,
  locksRoom,
  feedRoom,
  snapshotsRoom,
  trashRoom,
  overlayRoom,
];

/** The store format's migrations: `MIGRATIONS[i]` takes version `i` to `i + 1`. */
export const MIGRATIONS: readonly string[] = composeMigrations(ROOMS);

/** The store format version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;
