/**
 * Consistency checks (fsck): SQLite's own integrity check, then every
 * invariant the rooms register, then (with `verify`) every chunk read back
 * and re-hashed. With `repair`, the problems that can be fixed without
 * guessing (counts, orphans, abandoned writes) are fixed in one
 * transaction; the rest are reported as damage.
 *
 * @module
 */

import { verifyChunks } from "../chunks/verify.ts";
import type { ChunkCodec } from "../chunks/codec.ts";
import type { Core } from "../core/core.ts";
import { count, type Finding, type Room } from "../db/rooms.ts";

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

/** What the check needs to know of the store beyond its rooms. */
export interface CheckHost {
  rooms: readonly Room[];
  /** The codec of a volume whose chunks can be verified (null for a locked one). */
  codecOf(volume: number): ChunkCodec | null;
  /** A node's path for reports, or null. */
  nameOf(node: number): string | null;
}

function sqliteIntegrity(core: Core, full: boolean): Finding[] {
  const integrity = core.db.all<{ r: string }>(
    full
      ? "SELECT integrity_check AS r FROM pragma_integrity_check"
      : "SELECT quick_check AS r FROM pragma_quick_check",
  ).map((r) => r.r);
  if (integrity.length === 1 && integrity[0] === "ok") return [];
  return [{
    code: "sqlite",
    message: `SQLite integrity check: ${integrity.slice(0, 5).join("; ")}`,
  }];
}

/** Runs every check; see {@linkcode CheckOptions}. */
export function check(core: Core, host: CheckHost, options: CheckOptions = {}): CheckReport {
  const db = core.db;
  const findings = sqliteIntegrity(core, !!options.verify);
  const ctx = {
    db,
    openNodes: core.openNodes(),
    chunkRefs: host.rooms.flatMap((r) => r.chunkRefs ? [r.chunkRefs] : []),
  };
  db.read(() => {
    for (const room of host.rooms) {
      for (const invariant of room.invariants ?? []) findings.push(...invariant.find(ctx));
    }
  });
  const verified = options.verify
    ? verifyChunks(db, core.backend, { ...host, onProgress: options.onProgress })
    : { findings: [], chunksVerified: 0, chunksSkipped: 0, bytesVerified: 0 };
  findings.push(...verified.findings);
  const fixes = findings.filter((f) => f.fix);
  const repairing = !!options.repair && fixes.length > 0 && !db.readOnly;
  if (repairing) db.tx(() => fixes.forEach((f) => f.fix!()));
  const problems = findings.map((f) => ({
    code: f.code,
    message: f.message,
    repaired: !!(options.repair && f.fix && !db.readOnly),
  }));
  const damage = problems.filter((p) => !p.repaired).length;
  return {
    ok: damage === 0,
    problems,
    repaired: repairing ? fixes.length : 0,
    damage,
    counts: {
      volumes: count(db, "SELECT COUNT(*) FROM volumes"),
      nodes: count(db, "SELECT COUNT(*) FROM nodes"),
      entries: count(db, "SELECT COUNT(*) FROM entries"),
      versions: count(db, "SELECT COUNT(*) FROM versions WHERE session IS NULL"),
      chunks: count(db, "SELECT COUNT(*) FROM chunks"),
      chunksVerified: verified.chunksVerified,
      chunksSkipped: verified.chunksSkipped,
      bytesVerified: verified.bytesVerified,
    },
    pendingWrites: count(db, "SELECT COUNT(*) FROM versions WHERE session IS NOT NULL"),
  };
}
