/**
 * Garbage collection: reaping the sessions of dead processes with what
 * they left half-written, dropping nodes nothing links or holds open,
 * draining the chunk delete queue through the backend, and giving free
 * pages back to the file system.
 *
 * @module
 */

import { drainDeletes } from "../chunks/pool.ts";
import { dropPending } from "../content/versions.ts";
import type { Core } from "../core/core.ts";
import { deadSessions, dropSession } from "../core/sessions.ts";
import { count } from "../db/rooms.ts";

/** What `Store.gc` reclaimed. */
export interface GcReport {
  sessionsReaped: number;
  pendingVersionsDropped: number;
  nodesDropped: number;
  chunksDropped: number;
  /** Bytes the file shrank by. */
  fileBytesFreed: number;
  /** Trash entries purged, past their volume's retention. */
  trashPurged?: number;
  /** KV values a crashed writer left half staged, dropped. */
  kvStagingDropped?: number;
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
    const dead = deadSessions(db, core.clock, core.session.id, timeoutMs);
    let pending = 0;
    for (const id of dead) {
      pending += dropPending({ db }, id);
      dropSession(db, id);
    }
    const open = core.openNodes();
    const orphans = db.all<{ id: number }>(
      `SELECT id FROM nodes WHERE nlink <= 0 AND id NOT IN (SELECT node FROM opens)
       AND id NOT IN (SELECT root FROM volumes) AND id NOT IN (SELECT node FROM trash)`,
    ).map((r) => r.id).filter((id) => !open.has(id));
    for (const id of orphans) db.run("DELETE FROM nodes WHERE id = ?", id);
    return {
      sessionsReaped: dead.length,
      pendingVersionsDropped: pending,
      nodesDropped: orphans.length,
    };
  });
}

function fileBytes(core: Core): number {
  return count(core.db, "PRAGMA page_count") * count(core.db, "PRAGMA page_size");
}

/** Collects garbage and gives free pages back to the file system. */
export function gc(core: Core, timeoutMs: number): GcReport {
  const db = core.db;
  const before = fileBytes(core);
  const reaped = reap(core, timeoutMs);
  const chunksDropped = db.tx(() => {
    const n = db.run("DELETE FROM chunks WHERE refs <= 0").changes;
    drainDeletes(db, core.backend);
    core.backend.sweep?.();
    return n;
  });
  // The caller checkpointed first, so the vacuum's page moves do not stack
  // on a full WAL; checkpoint again to hand the freed pages back.
  db.all("PRAGMA incremental_vacuum");
  db.get("PRAGMA wal_checkpoint(TRUNCATE)");
  return { ...reaped, chunksDropped, fileBytesFreed: Math.max(0, before - fileBytes(core)) };
}
