/**
 * The trash of one volume. {@linkcode TrashPolicy} is the tree's policy:
 * a file whose last link goes, or a tree `remove` takes away, moves under
 * the volume's trash root as `ID-NAME` with a row saying where it was and
 * when it went; the size cap, the retention period and a full volume purge
 * the oldest first. Undeleting moves it back. All of it runs inside the
 * caller's transaction.
 *
 * @module
 */

import type { Db } from "../db/db.ts";
import { AlreadyExists, InvalidArgument, NotADirectory, NotFound } from "../errors.ts";
import { splitPath, utf8Length } from "../paths.ts";
import { Kind, type NodeRow } from "../tree/nodes.ts";
import type { Tree, TreePolicy } from "../tree/tree.ts";

/** A volume's trash settings. */
export interface TrashSettings {
  enabled: boolean;
  /** How long a removed entry is kept (ms); null: until purged. */
  keepMs: number | null;
  /** Most bytes the trash holds (the oldest go first); null: no cap. */
  maxBytes: number | null;
}

/** Trash on, entries kept 30 days, no size cap. */
export const DEFAULT_TRASH: Readonly<TrashSettings> = {
  enabled: true,
  keepMs: 30 * 24 * 3600 * 1000,
  maxBytes: null,
};

/** One trashed entry. */
export interface TrashRow {
  id: number;
  node: number;
  /** Where it was. */
  path: string;
  /** When it went (ms, the store's clock). */
  deleted: number;
  /** Bytes of its files. */
  size: number;
  kind: Kind;
  /** Its entry's name in the trash root. */
  entry: string;
}

interface SettingsRow {
  enabled: number;
  keep_ms: number | null;
  max_bytes: number | null;
  root: number | null;
}

/** The trash settings of volume `volume` (defaults when none were set), and its root. */
export function trashSettings(db: Db, volume: number): TrashSettings & { root: number | null } {
  const r = db.get<SettingsRow>("SELECT * FROM trash_settings WHERE volume = ?", volume);
  if (!r) return { ...DEFAULT_TRASH, root: null };
  return { enabled: r.enabled !== 0, keepMs: r.keep_ms, maxBytes: r.max_bytes, root: r.root };
}

/** Changes volume `volume`'s trash settings (the others stay). */
export function writeTrashSettings(db: Db, volume: number, s: Partial<TrashSettings>): void {
  for (const v of [s.keepMs, s.maxBytes]) {
    if (v !== undefined && v !== null && (!Number.isSafeInteger(v) || v < 0)) {
      throw new InvalidArgument(`invalid trash setting ${v}`);
    }
  }
  const now = trashSettings(db, volume);
  db.run(
    `INSERT INTO trash_settings(volume, enabled, keep_ms, max_bytes, root) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT(volume) DO UPDATE SET enabled = excluded.enabled, keep_ms = excluded.keep_ms,
       max_bytes = excluded.max_bytes`,
    volume,
    (s.enabled ?? now.enabled) ? 1 : 0,
    s.keepMs === undefined ? now.keepMs : s.keepMs,
    s.maxBytes === undefined ? now.maxBytes : s.maxBytes,
    now.root,
  );
}

/** The trash root of `t`'s volume, made on first use. */
export function rootOf(t: Tree): NodeRow {
  const s = trashSettings(t.db, t.vol.id);
  if (s.root !== null) return t.node(s.root);
  const id = t.entries.createUnlinked({ kind: Kind.Dir, mode: 0o700 });
  t.db.run("UPDATE nodes SET nlink = 2 WHERE id = ?", id);
  writeTrashSettings(t.db, t.vol.id, {});
  t.db.run("UPDATE trash_settings SET root = ? WHERE volume = ?", id, t.vol.id);
  return t.node(id);
}

/** `ID-NAME`, cut to fit a name's 255 bytes. */
function entryName(id: number, name: string): string {
  let out = `${id}-${name}`;
  while (utf8Length(out) > 255) out = out.slice(0, -1);
  return out;
}

/** Every trashed entry of `t`'s volume, oldest first. */
export function trashRows(t: Tree): TrashRow[] {
  const s = trashSettings(t.db, t.vol.id);
  if (s.root === null) return [];
  return t.db.all<
    { id: number; node: number; path: Uint8Array; deleted: number; size: number; kind: Kind }
  >(
    "SELECT id, node, path, deleted, size, kind FROM trash WHERE volume = ? ORDER BY deleted, id",
    t.vol.id,
  ).map((r) => {
    const path = t.meta.openTarget(r.node, r.path);
    return { ...r, path, entry: entryName(r.id, path.slice(path.lastIndexOf("/") + 1)) };
  });
}

/**
 * Deletes a trashed entry for good. Works by node, not by name, so it
 * needs no key (gc purges expired entries of locked encrypted volumes).
 */
export function purgeTrash(t: Tree, row: { id: number; node: number; kind: Kind }): void {
  const root = trashSettings(t.db, t.vol.id).root!;
  t.db.run("DELETE FROM trash WHERE id = ?", row.id);
  if (row.kind === Kind.Dir) return t.entries.dropTreeIn(root, t.node(row.node));
  t.db.run("DELETE FROM entries WHERE parent = ? AND node = ?", root, row.node);
  t.entries.dropIfUnused(row.node);
}

/** Purges the entries of volume `volume` removed before `before` (ms); returns how many. */
export function expireTrash(t: Tree, before: number): number {
  const rows = t.db.all<{ id: number; node: number; kind: Kind }>(
    "SELECT id, node, kind FROM trash WHERE volume = ? AND deleted < ? ORDER BY deleted",
    t.vol.id,
    before,
  );
  for (const r of rows) purgeTrash(t, r);
  return rows.length;
}

/** The directory `path` names, made (with its parents) where missing. */
function directoryAt(t: Tree, path: string): NodeRow {
  let dir = t.node(t.root);
  for (const name of splitPath(path)) {
    const next = t.lookup(dir, name);
    if (next && next.kind !== Kind.Dir) throw new NotADirectory("not a directory", name);
    dir = next ?? t.node(t.entries.create(dir, name, { kind: Kind.Dir }));
  }
  return dir;
}

/**
 * Puts trashed entry `row` back at `to` (default where it was); parents
 * are made again as needed. `AlreadyExists` if the path is taken.
 */
export function undelete(t: Tree, row: TrashRow, to?: string): string {
  const path = to ?? row.path;
  const names = splitPath(path);
  if (names.length === 0) throw new InvalidArgument("cannot undelete onto the volume root", path);
  const dir = directoryAt(t, "/" + names.slice(0, -1).join("/"));
  const name = names[names.length - 1];
  if (t.lookup(dir, name)) {
    throw new AlreadyExists("the path is taken; undelete it elsewhere", path);
  }
  const root = rootOf(t);
  t.db.run("DELETE FROM trash WHERE id = ?", row.id);
  if (row.kind === Kind.Dir) {
    t.entries.rename({ dir: root, name: row.entry }, { dir, name });
  } else {
    t.entries.removeUncounted(root, row.entry, row.node);
    t.entries.attach({ dir, name }, row.node);
  }
  return "/" + names.join("/");
}

/** Bytes of the files in the tree below directory `id`. */
function treeSize(db: Db, id: number): number {
  return Number(
    db.value(
      `WITH RECURSIVE d(id) AS (SELECT ? UNION
         SELECT e.node FROM entries e JOIN d ON e.parent = d.id JOIN nodes n ON n.id = e.node
         WHERE n.kind = ${Kind.Dir})
       SELECT IFNULL(SUM(n.size), 0) FROM entries e JOIN nodes n ON n.id = e.node
       WHERE e.parent IN (SELECT id FROM d) AND n.kind = ${Kind.File}`,
      id,
    ) ?? 0,
  );
}

/** The volume's trash as the tree's policy (see `TreePolicy`). */
export class TrashPolicy implements TreePolicy {
  readonly #t: Tree;
  readonly #now: () => number;

  constructor(t: Tree, now: () => number) {
    this.#t = t;
    this.#now = now;
  }

  #record(place: { dir: NodeRow; name: string }, node: NodeRow, size: number): string {
    const t = this.#t;
    const path = t.pathOf(place.dir.id).replace(/\/$/, "") + "/" + place.name;
    const id = t.db.run(
      "INSERT INTO trash(volume, node, path, deleted, size, kind) VALUES (?, ?, ?, ?, ?, ?)",
      t.vol.id,
      node.id,
      t.meta.sealTarget(node.id, path),
      this.#now(),
      size,
      node.kind,
    ).lastId;
    return entryName(id, place.name);
  }

  keepUnlinked(place: { dir: NodeRow; name: string }, node: NodeRow): boolean {
    if (!trashSettings(this.#t.db, this.#t.vol.id).enabled) return false;
    const entry = this.#record(place, node, node.kind === Kind.File ? node.size : 0);
    this.#t.entries.enterUncounted(rootOf(this.#t), entry, node.id);
    this.#cap();
    return true;
  }

  keepTree(place: { dir: NodeRow; name: string }, node: NodeRow): boolean {
    const t = this.#t;
    if (!trashSettings(t.db, t.vol.id).enabled) return false;
    const entry = this.#record(place, node, treeSize(t.db, node.id));
    t.entries.rename(place, { dir: rootOf(t), name: entry });
    this.#cap();
    return true;
  }

  /** Purges the oldest entries while the trash holds more than its cap. */
  #cap(): void {
    const t = this.#t;
    const { maxBytes } = trashSettings(t.db, t.vol.id);
    if (maxBytes === null) return;
    const rows = trashRows(t);
    let total = rows.reduce((n, r) => n + r.size, 0);
    for (const r of rows) {
      if (total <= maxBytes) return;
      purgeTrash(t, r);
      total -= r.size;
    }
  }

  relieve(bytes: number): boolean {
    const t = this.#t;
    const stored = () =>
      Number(t.db.value("SELECT stored_bytes FROM volumes WHERE id = ?", t.vol.id));
    const start = stored();
    let purged = false;
    for (const r of trashRows(t)) {
      purgeTrash(t, r);
      purged = true;
      if (start - stored() >= bytes) break;
    }
    return purged;
  }
}

/** Looks a trashed entry up by id, or by the path it had (the latest removed there). */
export function findTrash(t: Tree, idOrPath: number | string): TrashRow {
  const rows = trashRows(t);
  const found = typeof idOrPath === "number"
    ? rows.find((r) => r.id === idOrPath)
    : rows.filter((r) => r.path === "/" + splitPath(idOrPath).join("/")).pop();
  if (!found) throw new NotFound("not in the trash", String(idOrPath));
  return found;
}
