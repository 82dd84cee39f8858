/**
 * The change feed: every commit that changes a volume appends one row, in
 * the same transaction, with a store-wide increasing sequence number — what
 * changed (content, names, attributes, extended attributes, settings) and
 * which nodes. Sync, live replication, cache invalidation and statistics
 * read it with `vol.changes({ since })`.
 *
 * Retention: the newest {@linkcode FEED_KEEP} rows of the store are kept
 * (trimmed every 256 commits, so up to 255 more); a reader that asks for
 * older ones gets a first record with `gap: true` and must rescan what it
 * mirrors.
 *
 * @module
 */

import type { Clock } from "../clock.ts";
import type { Db } from "../db/db.ts";

/** What a commit changed, as bits of `changes.kinds`. */
export const Change = {
  Content: 1,
  Names: 2,
  Attributes: 4,
  Xattrs: 8,
  Settings: 16,
} as const;
/** One of the {@linkcode Change} bits. */
export type Change = typeof Change[keyof typeof Change];

/** The names of {@linkcode Change} bits, as records report them. */
export type ChangeKind = "content" | "names" | "attributes" | "xattrs" | "settings";

const KIND_NAMES: [number, ChangeKind][] = [
  [Change.Content, "content"],
  [Change.Names, "names"],
  [Change.Attributes, "attributes"],
  [Change.Xattrs, "xattrs"],
  [Change.Settings, "settings"],
];

/** Rows of the feed the store keeps. */
const FEED_KEEP = 10_000;
/** Nodes a row lists; a commit touching more lists none (`nodes: null`: "many"). */
const MAX_NODES = 64;

/** One commit, as `vol.changes()` yields it. */
export interface ChangeRecord {
  /** Increasing across the store; pass the last one seen as `since`. */
  seq: number;
  /** When it committed (the store's clock). */
  at: Date;
  kinds: ChangeKind[];
  /** The nodes it touched (`FileInfo.ino`), or null for more than 64. */
  nodes: number[] | null;
  /** True when changes between `since` and this one are no longer kept. */
  gap?: boolean;
}

interface Pending {
  kinds: number;
  nodes: Set<number> | null;
}

/** Gathers what a transaction changes and writes it as it commits. */
export class ChangeFeed {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #pending = new Map<number, Pending>();

  constructor(db: Db, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
    db.beforeCommit(() => this.#flush());
    db.afterRollback(() => this.#pending.clear());
  }

  /** Records that the open transaction changed `volume` (and `node`, when given). */
  note(volume: number, kind: Change, node?: number): void {
    let p = this.#pending.get(volume);
    if (!p) this.#pending.set(volume, p = { kinds: 0, nodes: new Set() });
    p.kinds |= kind;
    if (node === undefined || p.nodes === null) return;
    p.nodes.add(node);
    if (p.nodes.size > MAX_NODES) p.nodes = null;
  }

  #flush(): void {
    if (this.#pending.size === 0) return;
    const at = this.#clock.now();
    let seq = 0;
    for (const [volume, p] of this.#pending) {
      seq = this.#db.run(
        "INSERT INTO changes(volume, at, kinds, nodes) VALUES (?, ?, ?, ?)",
        volume,
        at,
        p.kinds,
        p.nodes === null ? null : JSON.stringify([...p.nodes]),
      ).lastId;
    }
    this.#pending.clear();
    if (seq % 256 === 0) trim(this.#db, seq);
  }
}

/** Drops rows older than the newest {@linkcode FEED_KEEP}, remembering where it cut. */
function trim(db: Db, newest: number): void {
  const cut = newest - FEED_KEEP;
  if (cut <= 0) return;
  db.run("DELETE FROM changes WHERE seq <= ?", cut);
  db.run(
    `INSERT INTO meta(key, value) VALUES ('changes.trimmed', ?)
     ON CONFLICT(key) DO UPDATE SET value = MAX(value, excluded.value)`,
    cut,
  );
}

/** Up to `limit` changes of `volume` after `since`, oldest first. */
export function readChanges(
  db: Db,
  volume: number,
  since: number,
  limit: number,
): ChangeRecord[] {
  const rows = db.all<{ seq: number; at: number; kinds: number; nodes: string | null }>(
    "SELECT seq, at, kinds, nodes FROM changes WHERE seq > ? AND volume = ? ORDER BY seq LIMIT ?",
    since,
    volume,
    limit,
  );
  const trimmed = Number(db.value("SELECT value FROM meta WHERE key = 'changes.trimmed'") ?? 0);
  return rows.map((r, i) => ({
    seq: r.seq,
    at: new Date(r.at),
    kinds: KIND_NAMES.filter(([bit]) => r.kinds & bit).map(([, name]) => name),
    nodes: r.nodes === null ? null : JSON.parse(r.nodes),
    ...(i === 0 && since < trimmed ? { gap: true } : {}),
  }));
}
