/**
 * The overlay's share of `check`: it has no tables (whiteouts and opaque
 * markers are ordinary nodes and extended attributes of the upper
 * volume), only the invariant that keeps its markers meaningful.
 *
 * @module
 */

import type { Invariant, Room } from "../db/rooms.ts";
import { OPAQUE } from "./layers.ts";

const invariants: Invariant[] = [
  {
    rule: `the opaque marker (${OPAQUE}) sits only on directories (unencrypted volumes)`,
    find({ db }) {
      // Encrypted volumes key attribute names by node: their markers cannot be told apart here.
      return db.all<{ node: number }>(
        `SELECT x.node FROM xattrs x JOIN nodes n ON n.id = x.node JOIN volumes v ON v.id = n.volume
         WHERE v.crypto IS NULL AND x.key = ? AND n.kind != 2`,
        new TextEncoder().encode(OPAQUE),
      ).map((r) => ({
        code: "opaque-marker",
        message: `node ${r.node} is no directory but carries the opaque marker`,
        fix: () =>
          db.run(
            "DELETE FROM xattrs WHERE node = ? AND key = ?",
            r.node,
            new TextEncoder().encode(OPAQUE),
          ),
      }));
    },
  },
];

/** Layered volumes. */
export const overlayRoom: Room = { name: "overlay", invariants };
