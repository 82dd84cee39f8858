/**
 * The tree's share of the format: the invariants of nodes, entries, link
 * counts and extended attributes; what removing a volume deletes; (in
 * version 4) the rule that a deleted node takes its extended attributes
 * with it; and (in version 5) special files: FIFOs, sockets and devices
 * with their device number.
 *
 * @module
 */

import { count, type Finding, type Invariant, type Room } from "../db/rooms.ts";
import type { Db } from "../db/db.ts";
import { Kind } from "./nodes.ts";

function roots(db: Db): Finding[] {
  return db.all<{ name: string; kind: number | null; vol: number | null; id: number }>(
    `SELECT v.id, v.name, n.kind, n.volume AS vol FROM volumes v LEFT JOIN nodes n ON n.id = v.root`,
  ).filter((v) => v.kind !== Kind.Dir || v.vol !== v.id)
    .map((v) => ({ code: "root", message: `volume "${v.name}" has no root directory` }));
}

function nodeFields(db: Db): Finding[] {
  return [
    ...db.all<{ id: number }>(
      "SELECT id FROM nodes WHERE volume NOT IN (SELECT id FROM volumes)",
    ).map((r) => ({ code: "node-volume", message: `node ${r.id} belongs to no volume` })),
    ...db.all<{ id: number }>(
      `SELECT id FROM nodes WHERE kind NOT IN (1, 2, 3, 4, 5, 6, 7)
       OR (kind = 3 AND target IS NULL) OR (kind != 1 AND version IS NOT NULL)
       OR (kind NOT IN (5, 6) AND rdev != 0) OR (kind >= 4 AND size != 0)`,
    ).map((r) => ({ code: "node-kind", message: `node ${r.id} has an invalid kind or fields` })),
    ...db.all<{ uuid: string | null; n: number }>(
      `SELECT uuid, COUNT(*) AS n FROM nodes
       WHERE volume NOT IN (SELECT volume FROM snapshots) GROUP BY uuid
       HAVING uuid IS NULL OR n > 1 LIMIT 100`,
    ).map((r) => ({
      code: "node-id",
      message: r.uuid === null ? `${r.n} nodes have no file id` : `${r.n} nodes share id ${r.uuid}`,
    })),
  ];
}

function danglingEntries(db: Db): Finding[] {
  return db.all<{ parent: number; node: number }>(
    `SELECT e.parent, e.node FROM entries e
     LEFT JOIN nodes p ON p.id = e.parent LEFT JOIN nodes c ON c.id = e.node
     WHERE p.id IS NULL OR c.id IS NULL OR p.kind != ${Kind.Dir} OR p.volume != c.volume`,
  ).map((r) => ({
    code: "dangling-entry",
    message: `entry in ${r.parent} for node ${r.node} is dangling`,
    fix: () => db.run("DELETE FROM entries WHERE parent = ? AND node = ?", r.parent, r.node),
  }));
}

/** Entries that count as links: all but a trash root's (a trashed file has no links). */
const COUNTED = `SELECT COUNT(*) FROM entries e WHERE e.node = n.id
  AND e.parent NOT IN (SELECT root FROM trash_settings WHERE root IS NOT NULL)`;

/** Directories with no entry: volume roots and trash roots. */
const ROOTS = `SELECT root FROM volumes UNION
  SELECT root FROM trash_settings WHERE root IS NOT NULL`;

function fileLinks(db: Db): Finding[] {
  return db.all<{ id: number; nlink: number; n: number }>(
    `SELECT n.id, n.nlink, (${COUNTED}) AS n
     FROM nodes n WHERE n.kind != ${Kind.Dir} AND n.nlink != (${COUNTED})`,
  ).map((r) => ({
    code: "nlink",
    message: `node ${r.id} has nlink ${r.nlink} but ${r.n} entries`,
    fix: () => db.run("UPDATE nodes SET nlink = ? WHERE id = ?", r.n, r.id),
  }));
}

function dirLinks(db: Db): Finding[] {
  const out: Finding[] = [];
  for (
    const r of db.all<{ id: number; nlink: number; n: number; links: number; root: number }>(
      `SELECT n.id, n.nlink,
         2 + (SELECT COUNT(*) FROM entries e JOIN nodes c ON c.id = e.node
              WHERE e.parent = n.id AND c.kind = ${Kind.Dir}) AS n,
         (SELECT COUNT(*) FROM entries e WHERE e.node = n.id) AS links,
         (SELECT COUNT(*) FROM (${ROOTS}) v WHERE v.root = n.id) AS root
       FROM nodes n WHERE n.kind = ${Kind.Dir} AND n.nlink > 0`,
    )
  ) {
    if (r.links + r.root !== 1) {
      out.push({
        code: "dir-links",
        message: `directory ${r.id} has ${r.links} entries (needs exactly one)`,
      });
    } else if (r.nlink !== r.n) {
      out.push({
        code: "nlink",
        message: `directory ${r.id} has nlink ${r.nlink}, expected ${r.n}`,
        fix: () => db.run("UPDATE nodes SET nlink = ? WHERE id = ?", r.n, r.id),
      });
    }
  }
  return out;
}

function orphanNodes(db: Db, open: ReadonlySet<number>): Finding[] {
  return db.all<{ id: number }>(
    `SELECT id FROM nodes WHERE nlink <= 0 AND id NOT IN (SELECT node FROM opens)
     AND id NOT IN (${ROOTS}) AND id NOT IN (SELECT node FROM trash)`,
  ).filter((r) => !open.has(r.id)).map((r) => ({
    code: "orphan-node",
    message: `node ${r.id} has no links and no opener`,
    fix: () => db.run("DELETE FROM nodes WHERE id = ?", r.id),
  }));
}

function unreachable(db: Db): Finding[] {
  const n = count(
    db,
    `WITH RECURSIVE r(id) AS (${ROOTS} UNION
       SELECT e.node FROM entries e JOIN r ON e.parent = r.id)
     SELECT COUNT(*) FROM nodes WHERE nlink > 0 AND id NOT IN (SELECT id FROM r)`,
  );
  return n === 0
    ? []
    : [{ code: "unreachable", message: `${n} nodes cannot be reached from a root` }];
}

function strayXattrs(db: Db): Finding[] {
  const sql = "FROM xattrs WHERE node NOT IN (SELECT id FROM nodes)";
  const n = count(db, `SELECT COUNT(*) ${sql}`);
  return n === 0 ? [] : [{
    code: "orphan-xattr",
    message: `${n} extended attributes belong to no node`,
    fix: () => db.run(`DELETE ${sql}`),
  }];
}

const invariants: Invariant[] = [
  { rule: "every volume's root is a directory of that volume", find: ({ db }) => roots(db) },
  {
    rule: "every node belongs to a volume, has valid fields and a file id no other live node has",
    find: ({ db }) => nodeFields(db),
  },
  {
    rule: "every entry's parent is a directory of the same volume, and its node exists",
    find: ({ db }) => danglingEntries(db),
  },
  {
    rule: "a non-directory's nlink is its number of entries outside the trash",
    find: ({ db }) => fileLinks(db),
  },
  {
    rule: "a directory has exactly one entry (none for a root); nlink = 2 + subdirectories",
    find: ({ db }) => dirLinks(db),
  },
  {
    rule: "a node with no links is open by a live session or kept in the trash",
    find: ({ db, openNodes }) => orphanNodes(db, openNodes),
  },
  {
    rule: "every node with links is reachable from its volume's root or its trash",
    find: ({ db }) => unreachable(db),
  },
  { rule: "extended attributes belong to existing nodes", find: ({ db }) => strayXattrs(db) },
];

/** Nodes, entries and extended attributes. */
export const treeRoom: Room = {
  name: "tree",
  migrations: {
    4: `
    CREATE TRIGGER IF NOT EXISTS node_xattrs_out AFTER DELETE ON nodes BEGIN
      DELETE FROM xattrs WHERE node = OLD.id;
    END;
    `,
    5: `
    ALTER TABLE nodes ADD COLUMN rdev INTEGER NOT NULL DEFAULT 0;
    `,
    // Every node's stable id (a random UUID, kept across renames); a
    // snapshot's copy keeps its original's.
    7: `
    ALTER TABLE nodes ADD COLUMN uuid TEXT;
    UPDATE nodes SET uuid = lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4'
      || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + abs(random() % 4), 1)
      || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)));
    CREATE INDEX IF NOT EXISTS nodes_uuid ON nodes(uuid);
    `,
  },
  invariants,
  removeVolume(db, volume) {
    db.run(
      "DELETE FROM entries WHERE parent IN (SELECT id FROM nodes WHERE volume = ?)",
      volume,
    );
    db.run("DELETE FROM nodes WHERE volume = ?", volume);
  },
};
