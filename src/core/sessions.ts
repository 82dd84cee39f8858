/**
 * Sessions: the processes that have a store open for writing, and the
 * files each has open (`opens`), so an unlinked file stays until its last
 * handle closes, in any process. A session beats every few seconds; one
 * silent for longer than the timeout is dead, and reaping it drops what it
 * left half-written. Times come from the store's clock.
 *
 * @module
 */

import type { Clock } from "../clock.ts";
import type { Db } from "../db/db.ts";
import { count, type Room } from "../db/rooms.ts";

/** How long a deferred close waits for a commit to carry it. */
const CLOSE_DELAY_MS = 200;

/** This process's session in a store. */
export class Session {
  readonly #db: Db;
  readonly #clock: Clock;
  /** The `sessions` row; null until started (and after ending). */
  id: number | null = null;
  #timer?: ReturnType<typeof setInterval>;
  /**
   * Closed files whose open marks go in the next commit, with what to run
   * then (drop the node if it lost its last link meanwhile): a close then
   * costs no commit of its own, and a reopen before it finds its mark.
   */
  readonly #closing = new Map<number, () => void>();
  /** The marks the transaction committing now drops (restored if it rolls back). */
  readonly #dropping = new Map<number, () => void>();
  #flushTimer?: ReturnType<typeof setTimeout>;

  constructor(db: Db, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
    if (db.readOnly) return;
    db.beforeCommit(() => this.#dropClosed());
    db.afterCommit(() => this.#dropping.clear());
    db.afterRollback(() => {
      for (const [node, then] of this.#dropping) this.#closing.set(node, then);
      this.#dropping.clear();
    });
  }

  /** Registers the session and starts its heartbeat (every quarter of the timeout). */
  start(timeoutMs: number): void {
    const now = this.#clock.now();
    this.id = this.#db.tx(() =>
      this.#db.run(
        "INSERT INTO sessions(pid, started, heartbeat) VALUES (?, ?, ?)",
        Deno.pid,
        now,
        now,
      ).lastId
    );
    const beat = Math.max(1000, Math.min(15_000, timeoutMs / 4));
    const timer = setInterval(() => this.beat(), beat);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  /** Records that the session is alive (skipped while a transaction is open). */
  beat(): void {
    if (this.id === null || this.#db.inTransaction) return;
    try {
      this.#db.tx(() =>
        this.#db.run(
          "UPDATE sessions SET heartbeat = ? WHERE id = ?",
          this.#clock.now(),
          this.id,
        )
      );
    } catch { /* busy: the next beat tries again */ }
  }

  /** Marks `node` open by this session (inside the caller's transaction). */
  markOpen(node: number): void {
    if (this.id === null) return;
    this.#db.run("INSERT OR IGNORE INTO opens(session, node) VALUES (?, ?)", this.id, node);
  }

  /** Forgets that this session has `node` open (inside the caller's transaction). */
  markClosed(node: number): void {
    this.#closing.delete(node);
    this.#unmark(node);
  }

  #unmark(node: number): void {
    this.#db.run("DELETE FROM opens WHERE session = ? AND node = ?", this.id, node);
  }

  /**
   * A node's last handle closed: its mark goes in the next commit while it
   * is still linked (a close then costs no commit of its own), else now,
   * and `drop` runs with it (deleting the node if nothing uses it).
   */
  release(node: number, drop: () => void): void {
    const db = this.#db;
    const linked = !db.inTransaction &&
      (db.get<{ nlink: number }>("SELECT nlink FROM nodes WHERE id = ?", node)?.nlink ?? 0) > 0;
    if (linked) return this.markClosedLater(node, drop);
    db.tx(() => {
      this.markClosed(node);
      drop();
    });
  }

  /**
   * Forgets `node`'s open mark in the next commit, then runs `then` in it;
   * a commit comes within {@linkcode CLOSE_DELAY_MS} even when nothing else
   * writes. For a closed file that is still linked: until the mark goes,
   * another process unlinking it keeps the node, and `then` drops it.
   */
  markClosedLater(node: number, then: () => void): void {
    if (this.id === null) return;
    this.#closing.set(node, then);
    if (this.#flushTimer !== undefined) return;
    const timer = setTimeout(() => {
      this.#flushTimer = undefined;
      if (this.#closing.size === 0 || this.#db.inTransaction) return;
      try {
        this.#db.tx(() => {}); // the commit hook drops the marks
      } catch { /* busy: the next commit drops them */ }
    }, CLOSE_DELAY_MS);
    Deno.unrefTimer(timer);
    this.#flushTimer = timer;
  }

  /**
   * For a reopen: true when `node`'s open mark still stands because its
   * close was deferred (which is now cancelled), so no commit is needed.
   */
  reopen(node: number): boolean {
    return this.#closing.delete(node);
  }

  #dropClosed(): void {
    if (this.#closing.size === 0 || this.id === null) return;
    for (const [node, then] of this.#closing) {
      this.#unmark(node);
      this.#dropping.set(node, then);
      then();
    }
    this.#closing.clear();
  }

  /** Ends the session: stops the heartbeat and deletes its rows. */
  end(): void {
    clearInterval(this.#timer);
    clearTimeout(this.#flushTimer);
    if (this.id === null) return;
    const id = this.id;
    try {
      this.#db.tx(() => {
        // Closes still deferred go first: they may drop nodes unlinked meanwhile.
        this.#dropClosed();
        this.#db.run("DELETE FROM opens WHERE session = ?", id);
        this.#db.run("DELETE FROM sessions WHERE id = ?", id);
      });
    } finally {
      this.id = null;
      this.#closing.clear();
    }
  }
}

/** True when some session other than the caller's has node `id` open. */
export function openElsewhere(db: Db, id: number): boolean {
  return db.get("SELECT 1 FROM opens WHERE node = ? LIMIT 1", id) !== undefined;
}

/** Sessions whose heartbeat is older than `timeoutMs`, except `own`. */
export function deadSessions(
  db: Db,
  clock: Clock,
  own: number | null,
  timeoutMs: number,
): number[] {
  return db.all<{ id: number }>(
    "SELECT id FROM sessions WHERE heartbeat < ? AND id IS NOT ?",
    clock.now() - timeoutMs,
    own,
  ).map((r) => r.id);
}

/** Deletes a dead session's rows (its pending versions are the content room's). */
export function dropSession(db: Db, id: number): void {
  db.run("DELETE FROM opens WHERE session = ?", id);
  db.run("DELETE FROM sessions WHERE id = ?", id);
}

/** Sessions and open marks. */
export const sessionsRoom: Room = {
  name: "sessions",
  invariants: [{
    rule: "every open mark belongs to a live session and an existing node",
    find({ db }) {
      const sql =
        "FROM opens WHERE session NOT IN (SELECT id FROM sessions) OR node NOT IN (SELECT id FROM nodes)";
      const n = count(db, `SELECT COUNT(*) ${sql}`);
      return n === 0 ? [] : [{
        code: "orphan-open",
        message: `${n} open marks belong to no session or node`,
        fix: () => db.run(`DELETE ${sql}`),
      }];
    },
  }],
};
