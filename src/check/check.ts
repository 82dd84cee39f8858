/**
 * Consistency checks (fsck) and garbage collection of a store. `check`
 * verifies every invariant the README's format section states; with
 * `repair` it fixes the ones that can be fixed without guessing (counts,
 * orphans, abandoned writes) and reports the rest as damage.
 *
 * @module
 */

import type { ChunkCodec } from "../chunks/codec.ts";
import type { Core } from "../core/core.ts";
import type { Db } from "../db/db.ts";
import { Corrupt } from "../errors.ts";
import { Kind } from "../db/schema.ts";

/** One finding of `Store.check`. */
export interface CheckProblem {
  /** A stable code, e.g. `refcount`, `orphan-chunk`, `corrupt-chunk`. */
  code: string;
  message: string;
  /** True when `repair` fixed it. */
  repaired: boolean;
}

/** What `Store.check` found. */
export interface CheckReport {
  /** True when no problem remains (repaired ones do not count). */
  ok: boolean;
  problems: CheckProblem[];
  /** How many problems `repair` fixed. */
  repaired: number;
  /** Problems that remain: damage that needs a human or a backup. */
  damage: number;
  counts: {
    volumes: number;
    nodes: number;
    entries: number;
    versions: number;
    chunks: number;
    chunksVerified: number;
    /** Chunks of encrypted volumes not unlocked in this store: not verified. */
    chunksSkipped: number;
    bytesVerified: number;
  };
  /** Writes in progress by live sessions (not problems). */
  pendingWrites: number;
}

/** Options of `Store.check`. */
export interface CheckOptions {
  /** Read and re-hash every chunk (slow: reads the whole store). */
  verify?: boolean;
  /** Fix what can be fixed safely. */
  repair?: boolean;
  /** Called as chunks are verified. */
  onProgress?: (done: number, total: number) => void;
}

/** What `Store.gc` reclaimed. */
export interface GcReport {
  sessionsReaped: number;
  pendingVersionsDropped: number;
  nodesDropped: number;
  chunksDropped: number;
  /** Bytes the file shrank by. */
  fileBytesFreed: number;
}

interface Finding {
  code: string;
  message: string;
  /** SQL that repairs it; absent when it is damage. */
  fix?: () => void;
}

function count(db: Db, sql: string, ...params: (number | bigint)[]): number {
  return Number(db.value(sql, ...params) ?? 0);
}

/** Sessions whose heartbeat is older than `timeoutMs`, except `own`. */
function deadSessions(db: Db, own: number | null, timeoutMs: number): number[] {
  return db.all<{ id: number }>(
    "SELECT id FROM sessions WHERE heartbeat < ? AND id IS NOT ?",
    Date.now() - timeoutMs,
    own,
  ).map((r) => r.id);
}

/**
 * Removes dead sessions with their pending versions and open marks, then
 * nodes left with no links and no opener. Runs in a transaction.
 */
export function reap(
  core: Core,
  timeoutMs: number,
): Omit<GcReport, "fileBytesFreed" | "chunksDropped"> {
  const db = core.db;
  return db.tx(() => {
    const dead = deadSessions(db, core.session, timeoutMs);
    let pending = 0;
    for (const id of dead) {
      db.run(
        "DELETE FROM extents WHERE version IN (SELECT id FROM versions WHERE session = ?)",
        id,
      );
      pending += db.run("DELETE FROM versions WHERE session = ?", id).changes;
      db.run("DELETE FROM opens WHERE session = ?", id);
      db.run("DELETE FROM sessions WHERE id = ?", id);
    }
    const open = [...core.openNodes()];
    const orphans = db.all<{ id: number }>(
      `SELECT id FROM nodes WHERE nlink <= 0 AND id NOT IN (SELECT node FROM opens)
       AND id NOT IN (SELECT root FROM volumes)`,
    ).map((r) => r.id).filter((id) => !open.includes(id));
    for (const id of orphans) {
      db.run("DELETE FROM extents WHERE version IN (SELECT id FROM versions WHERE node = ?)", id);
      db.run("DELETE FROM versions WHERE node = ?", id);
      db.run("DELETE FROM xattrs WHERE node = ?", id);
      db.run("DELETE FROM nodes WHERE id = ?", id);
    }
    return {
      sessionsReaped: dead.length,
      pendingVersionsDropped: pending,
      nodesDropped: orphans.length,
    };
  });
}

const decoder = new TextDecoder();

/**
 * The path of a node of a plaintext volume, for reports; null when its
 * names are sealed (an encrypted volume) or it is linked nowhere.
 */
function nodePath(db: Db, node: number): string | null {
  const names: string[] = [];
  let cur = node;
  for (let depth = 0; depth < 4096; depth++) {
    const r = db.get<{ parent: number; key: Uint8Array; name: Uint8Array | null; root: number }>(
      `SELECT e.parent, e.key, e.name, v.root FROM entries e JOIN nodes p ON p.id = e.parent
       JOIN volumes v ON v.id = p.volume WHERE e.node = ? LIMIT 1`,
      cur,
    );
    if (!r || r.name !== null) return null;
    names.push(decoder.decode(r.key));
    if (r.parent === r.root) return "/" + names.reverse().join("/");
    cur = r.parent;
  }
  return null;
}

function fileBytes(db: Db): number {
  return count(db, "PRAGMA page_count") * count(db, "PRAGMA page_size");
}

/** Collects garbage and gives free pages back to the file system. */
export function gc(core: Core, timeoutMs: number): GcReport {
  const db = core.db;
  const before = fileBytes(db);
  const reaped = reap(core, timeoutMs);
  const chunksDropped = db.tx(() => {
    const n = db.run("DELETE FROM chunks WHERE refs <= 0").changes;
    db.run("DELETE FROM chunk_data WHERE id NOT IN (SELECT id FROM chunks)");
    return n;
  });
  // The caller checkpointed first, so the vacuum's page moves do not stack
  // on a full WAL; checkpoint again to hand the freed pages back.
  db.all("PRAGMA incremental_vacuum");
  db.get("PRAGMA wal_checkpoint(TRUNCATE)");
  return { ...reaped, chunksDropped, fileBytesFreed: Math.max(0, before - fileBytes(db)) };
}

/**
 * Runs every check; see {@linkcode CheckOptions}. `codecOf` gives the codec
 * of a volume whose chunks can be verified (null for a locked one).
 */
export function check(
  core: Core,
  codecOf: (volume: number) => ChunkCodec | null,
  options: CheckOptions = {},
): CheckReport {
  const db = core.db;
  const findings: Finding[] = [];
  const add = (code: string, message: string, fix?: () => void) =>
    findings.push({ code, message, fix });

  const integrity = db.all<{ r: string }>(
    options.verify
      ? "SELECT integrity_check AS r FROM pragma_integrity_check"
      : "SELECT quick_check AS r FROM pragma_quick_check",
  ).map((r) => r.r);
  if (integrity.length !== 1 || integrity[0] !== "ok") {
    add("sqlite", `SQLite integrity check: ${integrity.slice(0, 5).join("; ")}`);
  }

  db.read(() => {
    // Volumes and their roots.
    for (
      const v of db.all<
        { id: number; name: string; root: number; kind: number | null; vol: number | null }
      >(
        `SELECT v.id, v.name, v.root, n.kind, n.volume AS vol FROM volumes v
         LEFT JOIN nodes n ON n.id = v.root`,
      )
    ) {
      if (v.kind !== Kind.Dir || v.vol !== v.id) {
        add("root", `volume "${v.name}" has no root directory`);
      }
    }
    // Nodes.
    for (
      const r of db.all<{ id: number }>(
        "SELECT id FROM nodes WHERE volume NOT IN (SELECT id FROM volumes)",
      )
    ) add("node-volume", `node ${r.id} belongs to no volume`);
    for (
      const r of db.all<{ id: number; kind: number }>(
        `SELECT id, kind FROM nodes WHERE kind NOT IN (1, 2, 3)
         OR (kind = 3 AND target IS NULL) OR (kind != 1 AND version IS NOT NULL)`,
      )
    ) add("node-kind", `node ${r.id} has an invalid kind or fields`);
    for (
      const r of db.all<{ id: number }>(
        `SELECT n.id FROM nodes n LEFT JOIN versions v ON v.id = n.version
         WHERE n.version IS NOT NULL AND (v.id IS NULL OR v.node != n.id
           OR v.session IS NOT NULL OR v.size != n.size)`,
      )
    ) add("node-version", `file ${r.id} points at a missing or foreign version`);
    // Entries.
    for (
      const r of db.all<{ parent: number; node: number }>(
        `SELECT e.parent, e.node FROM entries e
         LEFT JOIN nodes p ON p.id = e.parent LEFT JOIN nodes c ON c.id = e.node
         WHERE p.id IS NULL OR c.id IS NULL OR p.kind != ${Kind.Dir} OR p.volume != c.volume`,
      )
    ) {
      add(
        "dangling-entry",
        `entry in ${r.parent} for node ${r.node} is dangling`,
        () => db.run("DELETE FROM entries WHERE parent = ? AND node = ?", r.parent, r.node),
      );
    }
    // Link counts.
    for (
      const r of db.all<{ id: number; nlink: number; n: number }>(
        `SELECT n.id, n.nlink, (SELECT COUNT(*) FROM entries e WHERE e.node = n.id) AS n
         FROM nodes n WHERE n.kind != ${Kind.Dir}
         AND n.nlink != (SELECT COUNT(*) FROM entries e WHERE e.node = n.id)`,
      )
    ) {
      add(
        "nlink",
        `node ${r.id} has nlink ${r.nlink} but ${r.n} entries`,
        () => db.run("UPDATE nodes SET nlink = ? WHERE id = ?", r.n, r.id),
      );
    }
    for (
      const r of db.all<{ id: number; nlink: number; n: number; links: number; root: number }>(
        `SELECT n.id, n.nlink,
           2 + (SELECT COUNT(*) FROM entries e JOIN nodes c ON c.id = e.node
                WHERE e.parent = n.id AND c.kind = ${Kind.Dir}) AS n,
           (SELECT COUNT(*) FROM entries e WHERE e.node = n.id) AS links,
           (SELECT COUNT(*) FROM volumes v WHERE v.root = n.id) AS root
         FROM nodes n WHERE n.kind = ${Kind.Dir} AND n.nlink > 0`,
      )
    ) {
      if (r.links + r.root !== 1) {
        add("dir-links", `directory ${r.id} has ${r.links} entries (needs exactly one)`);
      } else if (r.nlink !== r.n) {
        add(
          "nlink",
          `directory ${r.id} has nlink ${r.nlink}, expected ${r.n}`,
          () => db.run("UPDATE nodes SET nlink = ? WHERE id = ?", r.n, r.id),
        );
      }
    }
    const open = core.openNodes();
    for (
      const r of db.all<{ id: number }>(
        `SELECT id FROM nodes WHERE nlink <= 0 AND id NOT IN (SELECT node FROM opens)`,
      )
    ) {
      if (open.has(r.id)) continue;
      add("orphan-node", `node ${r.id} has no links and no opener`, () => {
        db.run(
          "DELETE FROM extents WHERE version IN (SELECT id FROM versions WHERE node = ?)",
          r.id,
        );
        db.run("DELETE FROM versions WHERE node = ?", r.id);
        db.run("DELETE FROM xattrs WHERE node = ?", r.id);
        db.run("DELETE FROM nodes WHERE id = ?", r.id);
      });
    }
    // Every linked node is reachable from its volume's root.
    const unreachable = count(
      db,
      `WITH RECURSIVE r(id) AS (SELECT root FROM volumes UNION
         SELECT e.node FROM entries e JOIN r ON e.parent = r.id)
       SELECT COUNT(*) FROM nodes WHERE nlink > 0 AND id NOT IN (SELECT id FROM r)`,
    );
    if (unreachable > 0) add("unreachable", `${unreachable} nodes cannot be reached from a root`);
    // Versions and extents.
    for (
      const r of db.all<{ id: number }>(
        "SELECT id FROM versions WHERE node NOT IN (SELECT id FROM nodes)",
      )
    ) {
      add("orphan-version", `version ${r.id} belongs to no node`, () => {
        db.run("DELETE FROM extents WHERE version = ?", r.id);
        db.run("DELETE FROM versions WHERE id = ?", r.id);
      });
    }
    for (
      const r of db.all<{ id: number }>(
        "SELECT id FROM versions WHERE session IS NOT NULL AND session NOT IN (SELECT id FROM sessions)",
      )
    ) {
      add("abandoned-write", `pending version ${r.id} has no session`, () => {
        db.run("DELETE FROM extents WHERE version = ?", r.id);
        db.run("DELETE FROM versions WHERE id = ?", r.id);
      });
    }
    for (
      const r of db.all<{ version: number; idx: number }>(
        `SELECT e.version, e.idx FROM extents e LEFT JOIN versions v ON v.id = e.version
         LEFT JOIN chunks c ON c.id = e.chunk
         WHERE v.id IS NULL OR c.id IS NULL OR c.size > v.chunk_size
           OR (v.session IS NULL AND e.idx * v.chunk_size >= v.size)`,
      )
    ) {
      add("extent", `extent ${r.idx} of version ${r.version} is dangling or out of range`);
    }
    for (
      const r of db.all<{ version: number }>(
        `SELECT e.version FROM extents e JOIN versions v ON v.id = e.version
         JOIN nodes n ON n.id = v.node JOIN chunks c ON c.id = e.chunk
         WHERE c.volume != n.volume LIMIT 100`,
      )
    ) add("foreign-chunk", `version ${r.version} uses another volume's chunk`);
    // Chunks.
    for (
      const r of db.all<{ id: number; refs: number; n: number }>(
        `WITH u AS (SELECT chunk, COUNT(*) AS n FROM extents GROUP BY chunk)
         SELECT c.id, c.refs, IFNULL(u.n, 0) AS n FROM chunks c LEFT JOIN u ON u.chunk = c.id
         WHERE c.refs != IFNULL(u.n, 0)`,
      )
    ) {
      const fix = r.n === 0
        ? () => db.run("DELETE FROM chunks WHERE id = ?", r.id)
        : () => db.run("UPDATE chunks SET refs = ? WHERE id = ?", r.n, r.id);
      add(
        r.n === 0 ? "orphan-chunk" : "refcount",
        `chunk ${r.id} has refs ${r.refs}, used ${r.n}`,
        fix,
      );
    }
    for (
      const r of db.all<{ id: number }>(
        "SELECT id FROM chunks WHERE data IS NULL AND id NOT IN (SELECT id FROM chunk_data)",
      )
    ) add("missing-data", `chunk ${r.id} has no data`);
    const strayData = count(
      db,
      "SELECT COUNT(*) FROM chunk_data WHERE id NOT IN (SELECT id FROM chunks)",
    );
    if (strayData > 0) {
      add(
        "orphan-data",
        `${strayData} chunk blobs belong to no chunk`,
        () => db.run("DELETE FROM chunk_data WHERE id NOT IN (SELECT id FROM chunks)"),
      );
    }
    for (
      const r of db.all<{ id: number; name: string; stored: number; sum: number }>(
        `SELECT v.id, v.name, v.stored_bytes AS stored,
           (SELECT IFNULL(SUM(stored), 0) FROM chunks c WHERE c.volume = v.id) AS sum
         FROM volumes v WHERE v.stored_bytes != sum`,
      )
    ) {
      add(
        "stored-bytes",
        `volume "${r.name}" counts ${r.stored} stored bytes, holds ${r.sum}`,
        () => db.run("UPDATE volumes SET stored_bytes = ? WHERE id = ?", r.sum, r.id),
      );
    }
    // Key slots: every encrypted volume has at least one, none is orphaned.
    for (
      const r of db.all<{ name: string }>(
        `SELECT name FROM volumes v WHERE crypto IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM key_slots k WHERE k.volume = v.id)`,
      )
    ) add("no-key-slot", `encrypted volume "${r.name}" has no key slot: it cannot be opened`);
    const straySlots = count(
      db,
      "SELECT COUNT(*) FROM key_slots WHERE volume NOT IN (SELECT id FROM volumes)",
    );
    if (straySlots > 0) {
      add(
        "orphan-key-slot",
        `${straySlots} key slots belong to no volume`,
        () => db.run("DELETE FROM key_slots WHERE volume NOT IN (SELECT id FROM volumes)"),
      );
    }
    // Locks: scope rows belong to live lock rows.
    const strayScope = count(
      db,
      "SELECT COUNT(*) FROM lock_scope WHERE token NOT IN (SELECT token FROM locks)",
    );
    if (strayScope > 0) {
      add(
        "orphan-lock-scope",
        `${strayScope} lock scope rows belong to no lock`,
        () => db.run("DELETE FROM lock_scope WHERE token NOT IN (SELECT token FROM locks)"),
      );
    }
    // Attributes and opens.
    const strayX = count(
      db,
      "SELECT COUNT(*) FROM xattrs WHERE node NOT IN (SELECT id FROM nodes)",
    );
    if (strayX > 0) {
      add(
        "orphan-xattr",
        `${strayX} extended attributes belong to no node`,
        () => db.run("DELETE FROM xattrs WHERE node NOT IN (SELECT id FROM nodes)"),
      );
    }
    const strayOpens = count(
      db,
      "SELECT COUNT(*) FROM opens WHERE session NOT IN (SELECT id FROM sessions) OR node NOT IN (SELECT id FROM nodes)",
    );
    if (strayOpens > 0) {
      add("orphan-open", `${strayOpens} open marks belong to no session or node`, () =>
        db.run(
          "DELETE FROM opens WHERE session NOT IN (SELECT id FROM sessions) OR node NOT IN (SELECT id FROM nodes)",
        ));
    }
  });

  let chunksVerified = 0;
  let chunksSkipped = 0;
  let bytesVerified = 0;
  if (options.verify) {
    const total = count(db, "SELECT COUNT(*) FROM chunks");
    const codecs = new Map<number, ChunkCodec | null>();
    for (const v of db.all<{ id: number }>("SELECT id FROM volumes")) {
      codecs.set(v.id, codecOf(v.id));
    }
    let after = 0;
    while (true) {
      const rows = db.all<
        {
          id: number;
          volume: number;
          size: number;
          codec: number;
          hash: Uint8Array;
          crc: number | null;
          data: Uint8Array | null;
        }
      >(
        `SELECT c.id, c.volume, c.size, c.codec, c.hash, c.crc, IFNULL(c.data, d.data) AS data
         FROM chunks c
         LEFT JOIN chunk_data d ON d.id = c.id WHERE c.id > ? ORDER BY c.id LIMIT 64`,
        after,
      );
      if (rows.length === 0) break;
      for (const r of rows) {
        after = r.id;
        const codec = codecs.get(r.volume);
        if (r.data === null) continue;
        if (!codec) {
          chunksSkipped++;
          continue;
        }
        try {
          codec.decode(r.data, r.codec, r.hash, r.size, r.crc, true);
          bytesVerified += r.size;
        } catch (e) {
          if (!(e instanceof Corrupt)) throw e;
          const files = db.all<{ node: number }>(
            `SELECT DISTINCT v.node FROM extents e JOIN versions v ON v.id = e.version
             WHERE e.chunk = ? LIMIT 10`,
            r.id,
          ).map((f) => nodePath(db, f.node) ?? `node ${f.node}`);
          add(
            "corrupt-chunk",
            `chunk ${r.id} is corrupt (${e.message}); used by ${files.join(", ")}`,
          );
        }
        chunksVerified++;
      }
      options.onProgress?.(chunksVerified, total);
    }
  }

  let repaired = 0;
  const problems: CheckProblem[] = [];
  const fixes = findings.filter((f) => f.fix);
  if (options.repair && fixes.length > 0 && !db.readOnly) {
    db.tx(() => fixes.forEach((f) => f.fix!()));
    repaired = fixes.length;
  }
  for (const f of findings) {
    problems.push({
      code: f.code,
      message: f.message,
      repaired: !!(options.repair && f.fix && !db.readOnly),
    });
  }
  const damage = problems.filter((p) => !p.repaired).length;
  return {
    ok: damage === 0,
    problems,
    repaired,
    damage,
    counts: {
      volumes: count(db, "SELECT COUNT(*) FROM volumes"),
      nodes: count(db, "SELECT COUNT(*) FROM nodes"),
      entries: count(db, "SELECT COUNT(*) FROM entries"),
      versions: count(db, "SELECT COUNT(*) FROM versions WHERE session IS NULL"),
      chunks: count(db, "SELECT COUNT(*) FROM chunks"),
      chunksVerified,
      chunksSkipped,
      bytesVerified,
    },
    pendingWrites: count(db, "SELECT COUNT(*) FROM versions WHERE session IS NOT NULL"),
  };
}
