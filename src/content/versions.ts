/**
 * Versions: the only place that installs a file's new version, prunes old
 * ones by retention, copies and restores them. A version is a row in
 * `versions` and its chunk list in `extents`; installing one points the node
 * at it, prunes versions beyond the file's retention, checks the volume's
 * capacity, and records the change. Runs inside the caller's transaction.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { EncodedChunk } from "../chunks/codec.ts";
import { putChunk } from "../chunks/pool.ts";
import { nowNs } from "../clock.ts";
import { NotFound, QuotaExceeded } from "../errors.ts";
import { Change } from "../feed/feed.ts";
import type { NodeRow } from "../tree/nodes.ts";
import { MAX_DEPTH, type Tree } from "../tree/tree.ts";
import type { VersionInfo } from "../types.ts";

/**
 * Checks that the volume, and the disk under the store, have room for the
 * `added` stored bytes of this transaction, before it commits.
 */
export function checkQuota(tree: Tree, added: number): void {
  if (added <= 0) return;
  const r = tree.db.get<{ stored: number; capacity: number | null }>(
    "SELECT stored_bytes AS stored, capacity FROM volumes WHERE id = ?",
    tree.vol.id,
  )!;
  // Over capacity: the tree's policy may make room (the oldest trash goes first).
  if (r.capacity !== null && r.stored > r.capacity && tree.policy?.relieve(r.stored - r.capacity)) {
    r.stored = Number(tree.db.value("SELECT stored_bytes FROM volumes WHERE id = ?", tree.vol.id));
  }
  if (r.capacity !== null && r.stored > r.capacity) {
    throw new QuotaExceeded(
      `volume "${tree.vol.name}" is full (${r.stored} of ${r.capacity} bytes)`,
    );
  }
  tree.core.disk.check(added);
  tree.db.noteStored(added);
}

/**
 * A version's digest: SHA-256 over its size and its chunk ids in order,
 * cut to 16 bytes. Equal content gives equal digests (chunk ids are
 * content hashes), so it serves as a strong, content-derived ETag.
 */
function digestOf(tree: Tree, vid: number, size: number): Uint8Array {
  const rows = tree.db.q(
    `SELECT e.idx, c.hash FROM extents e JOIN chunks c ON c.id = e.chunk
     WHERE e.version = ? ORDER BY e.idx`,
  ).iterate(vid) as Iterable<{ idx: number; hash: Uint8Array }>;
  return digestOver(size, rows);
}

/** {@linkcode digestOf} from the chunk ids themselves, slot by slot in order. */
function digestOver(size: number, chunks: Iterable<{ idx: number; hash: Uint8Array }>): Uint8Array {
  const h = createHash("sha256");
  const word = new Uint8Array(8);
  const view = new DataView(word.buffer);
  view.setBigUint64(0, BigInt(size));
  h.update(word);
  for (const r of chunks) {
    view.setBigUint64(0, BigInt(r.idx));
    h.update(word);
    h.update(r.hash);
  }
  return h.digest().subarray(0, 16);
}

/** A pending version of `node`, owned by this process's session, to stage chunks into. */
export function createPending(tree: Tree, node: number): number {
  return tree.db.run(
    `INSERT INTO versions(node, seq, size, mtime, created, chunk_size, session)
     VALUES (?, NULL, 0, 0, ?, ?, ?)`,
    node,
    nowNs(),
    tree.vol.chunkSize,
    tree.core.session.id,
  ).lastId;
}

/** Deletes a version (its extents go with it). */
export function dropVersion(tree: Tree, vid: number): void {
  tree.db.run("DELETE FROM versions WHERE id = ?", vid);
}

/** What {@linkcode installVersion} installs. */
export interface NewVersion {
  node: number;
  size: number;
  mtime: bigint;
  /** A pending version (staged chunks) to complete; a new row otherwise. */
  pending?: number | null;
  /** Inserts the version's extents; returns the stored bytes they added. */
  fill(vid: number): number;
  /** The version's digest when the caller knows its chunk ids (else read back). */
  digest?: Uint8Array;
  /** Runs once the node points at the new version (linking a new file, say). */
  then?: () => void;
  /** The node was created in this transaction: this is its version 1. */
  first?: boolean;
}

/**
 * Makes a new committed version current: numbers it after the node's last,
 * stores its digest, points the node at it, prunes versions beyond the
 * retention and checks the quota. Returns the version's id and number.
 */
export function installVersion(tree: Tree, v: NewVersion): { vid: number; seq: number } {
  const db = tree.db;
  const now = nowNs();
  const nextSeq = () =>
    v.first ? 1 : db.get<{ s: number }>(
      "SELECT IFNULL(MAX(seq), 0) + 1 AS s FROM versions WHERE node = ?",
      v.node,
    )!.s;
  let vid: number;
  let seq: number;
  let added: number;
  if (v.pending == null && v.digest) {
    // Everything is known up front: the row goes in finished.
    seq = nextSeq();
    vid = db.run(
      `INSERT INTO versions(node, seq, size, mtime, created, chunk_size, digest)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      v.node,
      seq,
      v.size,
      v.mtime,
      now,
      tree.vol.chunkSize,
      v.digest,
    ).lastId;
    added = v.fill(vid);
  } else {
    vid = v.pending ?? db.run(
      `INSERT INTO versions(node, seq, size, mtime, created, chunk_size)
       VALUES (?, NULL, ?, ?, ?, ?)`,
      v.node,
      v.size,
      v.mtime,
      now,
      tree.vol.chunkSize,
    ).lastId;
    added = v.fill(vid);
    seq = nextSeq();
    db.run(
      `UPDATE versions SET seq = ?, size = ?, mtime = ?, created = ?, session = NULL, digest = ?
       WHERE id = ?`,
      seq,
      v.size,
      v.mtime,
      now,
      v.digest ?? digestOf(tree, vid, v.size),
      vid,
    );
  }
  const { changes } = db.run(
    "UPDATE nodes SET version = ?, size = ?, mtime = ?, ctime = ? WHERE id = ?",
    vid,
    v.size,
    v.mtime,
    now,
    v.node,
  );
  if (changes === 0) throw new NotFound("file was removed", `#${v.node}`);
  v.then?.();
  if (seq > 1) {
    const keep = keepFor(tree, v.node);
    if (seq > keep) pruneVersions(tree, v.node, keep);
  }
  checkQuota(tree, added);
  tree.note(Change.Content, v.node);
  return { vid, seq };
}

/**
 * Makes a copy of version `source` the current content of `node`, sharing
 * every chunk (copy and restore). Returns the new version's number.
 */
export function copyVersion(
  tree: Tree,
  node: number,
  source: { version: number | null; size: number; mtime: bigint },
): number {
  return installVersion(tree, {
    node,
    size: source.size,
    mtime: source.mtime,
    fill(vid) {
      if (source.version !== null) {
        tree.db.run(
          "INSERT INTO extents(version, idx, chunk) SELECT ?, idx, chunk FROM extents WHERE version = ?",
          vid,
          source.version,
        );
      }
      return 0;
    },
  }).seq;
}

/** Options of {@linkcode commitChunks}. */
export interface ChunksVersion {
  /** Encoded chunks for slots 0, 1, …. */
  chunks: EncodedChunk[];
  size: number;
  mtime: bigint;
  /** Redoes a chunk whose encoding stopped at its id (see `putChunk`). */
  reencode?: () => EncodedChunk;
  /** The node was created in this transaction (see {@linkcode NewVersion.first}). */
  first?: boolean;
}

/**
 * Makes already-encoded chunks the current content of `node`: small writes
 * commit this way in a single transaction. Returns the version's number.
 */
export function commitChunks(tree: Tree, node: number, v: ChunksVersion): number {
  const target = { db: tree.db, backend: tree.core.backend, volume: tree.vol.id };
  return installVersion(tree, {
    node,
    size: v.size,
    mtime: v.mtime,
    digest: digestOver(v.size, v.chunks.map((enc, idx) => ({ idx, hash: enc.hash }))),
    first: v.first,
    fill(vid) {
      let added = 0;
      v.chunks.forEach((enc, idx) => {
        const put = putChunk(target, enc, v.reencode);
        added += put.added;
        tree.db.run("INSERT INTO extents(version, idx, chunk) VALUES (?, ?, ?)", vid, idx, put.id);
      });
      return added;
    },
  }).seq;
}

// ---- retention ------------------------------------------------------------

/** Deletes the oldest committed versions of a node beyond `keep` (at least one stays). */
function pruneVersions(tree: Tree, node: number, keep: number): void {
  tree.db.run(
    `DELETE FROM versions WHERE id IN (SELECT id FROM versions WHERE node = ? AND session IS NULL
     ORDER BY seq DESC LIMIT -1 OFFSET ?)`,
    node,
    Math.max(1, keep),
  );
}

/** Sets or clears the retention of a file or, for a directory, of everything below it. */
export function setKeep(tree: Tree, n: NodeRow, keep: number | null): void {
  tree.db.run("UPDATE nodes SET keep = ? WHERE id = ?", keep, n.id);
  tree.note(Change.Settings, n.id);
}

/**
 * How many versions a file keeps: its own setting, else the nearest
 * ancestor directory's, else the volume's.
 */
function keepFor(tree: Tree, id: number): number {
  const db = tree.db;
  const any = db.get(
    "SELECT 1 FROM nodes WHERE volume = ? AND keep IS NOT NULL LIMIT 1",
    tree.vol.id,
  );
  if (!any) return tree.vol.keepVersions;
  let cur: number | undefined = id;
  for (let depth = 0; depth <= MAX_DEPTH && cur !== undefined; depth++) {
    const r = db.get<{ keep: number | null }>("SELECT keep FROM nodes WHERE id = ?", cur);
    if (r && r.keep !== null) return r.keep;
    if (cur === tree.root) break;
    cur = tree.parentOf(cur);
  }
  return tree.vol.keepVersions;
}

// ---- listing and restoring ---------------------------------------------------

/** The committed versions of a file, newest first. */
export function listVersions(tree: Tree, n: NodeRow): VersionInfo[] {
  return tree.db.all<{ seq: number; size: number; mtime: number; created: number; id: number }>(
    `SELECT id, seq, size, mtime / 1000000 AS mtime, created / 1000000 AS created
     FROM versions WHERE node = ? AND session IS NULL ORDER BY seq DESC`,
    n.id,
  ).map((v) => ({
    version: v.seq,
    size: v.size,
    mtime: new Date(v.mtime),
    created: new Date(v.created),
    current: v.id === n.version,
  }));
}

/** Makes version `seq` of a file current again, as a new version; returns its number. */
export function restoreVersion(tree: Tree, n: NodeRow, seq: number, path: string): number {
  const v = tree.db.get<{ id: number; size: number }>(
    "SELECT id, size FROM versions WHERE node = ? AND seq = ? AND session IS NULL",
    n.id,
    seq,
  );
  if (!v) throw new NotFound(`no version ${seq}`, path);
  return copyVersion(tree, n.id, { version: v.id, size: v.size, mtime: nowNs() });
}

/** Drops the pending versions of a dead session; returns how many. */
export function dropPending(tree: { db: Tree["db"] }, session: number): number {
  return tree.db.run("DELETE FROM versions WHERE session = ?", session).changes;
}

/** A volume's stored bytes and capacity: one row. */
export function usageOf(tree: Tree): { used: number; capacity: number | null } {
  return tree.db.get<{ used: number; capacity: number | null }>(
    "SELECT stored_bytes AS used, capacity FROM volumes WHERE id = ?",
    tree.vol.id,
  )!;
}

/** Committed versions of the volume's files. */
export function countVersions(tree: Tree): number {
  return tree.db.get<{ n: number }>(
    `SELECT COUNT(*) AS n FROM versions v JOIN nodes n ON n.id = v.node
     WHERE n.volume = ? AND v.session IS NULL`,
    tree.vol.id,
  )!.n;
}
