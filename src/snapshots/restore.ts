/**
 * Restoring a snapshot into the live tree, and comparing two trees. A
 * restore walks the snapshot's directory and the live one side by side:
 * a file whose content differs gets the snapshot's content as a new
 * version (so what it replaces stays as a version), a missing entry is
 * made again, an entry the snapshot lacks is removed (the caller's
 * `remove` decides how: to the trash, say), and modes, owners and times
 * come back. Hard links inside the restored tree stay links. Runs inside
 * the caller's transaction.
 *
 * @module
 */

import { copyVersion } from "../content/versions.ts";
import { hex, Kind, type NodeRow } from "../tree/nodes.ts";
import type { Tree } from "../tree/tree.ts";
import { uuidFree } from "../tree/entries.ts";
import type { RestoreReport, SnapshotChange } from "../types.ts";

const PAGE = 512;
const EMPTY = new Uint8Array(0);

/** The entries of a directory by name. */
export function entriesOf(t: Tree, dir: number): Map<string, NodeRow> {
  const out = new Map<string, NodeRow>();
  let after: Uint8Array | null = null;
  while (true) {
    const page = t.listPagePlus(dir, after, PAGE);
    for (const e of page) out.set(e.name, e.node);
    if (page.length < PAGE) return out;
    after = page[page.length - 1].key;
  }
}

/** How a restore takes away a live entry the snapshot does not have. */
export type RemoveEntry = (dir: NodeRow, name: string, node: NodeRow) => void;

/** True when two nodes hold the same thing (content, target, device) and kind. */
function sameThing(live: Tree, l: NodeRow, snap: Tree, s: NodeRow): boolean {
  if (l.kind !== s.kind) return false;
  if (l.kind === Kind.File) {
    return l.size === s.size && hex(l.digest ?? EMPTY) === hex(s.digest ?? EMPTY);
  }
  if (l.kind === Kind.Symlink) return live.target(l) === snap.target(s);
  return l.rdev === s.rdev;
}

class Restorer {
  readonly report: RestoreReport = { restored: 0, created: 0, removed: 0 };
  /** Snapshot node → live node, for hard links. */
  readonly #linked = new Map<number, number>();
  /** Directories whose times to set once their entries are in place. */
  readonly #dirs: [NodeRow, NodeRow][] = [];

  constructor(readonly live: Tree, readonly snap: Tree, readonly remove: RemoveEntry) {}

  #attrs(l: NodeRow, s: NodeRow): void {
    this.live.setAttributes(l, {
      mode: s.mode,
      uid: s.uid,
      gid: s.gid,
      atime: s.atime,
      mtime: s.mtime,
    });
  }

  /** Makes a new live entry for snapshot node `s`; returns it. */
  #make(dir: NodeRow, name: string, s: NodeRow): NodeRow {
    const live = this.live;
    const seen = this.#linked.get(s.id);
    if (seen !== undefined) return live.entries.link(live.node(seen), { dir, name });
    const target = s.kind === Kind.Symlink ? this.snap.target(s) : undefined;
    const id = live.entries.create(dir, name, {
      kind: s.kind,
      mode: s.mode,
      uid: s.uid,
      gid: s.gid,
      rdev: s.rdev,
      target,
      // A file restored after its deletion gets its id back.
      id: uuidFree(live.db, s.uuid) ? s.uuid : undefined,
    });
    if (s.kind === Kind.File && s.version !== null) {
      copyVersion(live, id, { version: s.version, size: s.size, mtime: s.mtime });
    }
    this.report.created++;
    return live.node(id);
  }

  /** Brings live entry `name` of `dir` (maybe absent) to snapshot node `s`. */
  entry(dir: NodeRow, name: string, l: NodeRow | undefined, s: NodeRow): void {
    const live = this.live;
    // Read again: a hard link restored earlier in this walk may have changed it.
    if (l) l = live.node(l.id);
    let node: NodeRow;
    if (l && (l.kind === s.kind && (s.kind === Kind.Dir || sameThing(live, l, this.snap, s)))) {
      node = l;
    } else if (l && l.kind === Kind.File && s.kind === Kind.File && !this.#linked.has(s.id)) {
      copyVersion(live, l.id, { version: s.version, size: s.size, mtime: s.mtime });
      this.report.restored++;
      node = live.node(l.id);
    } else {
      if (l) {
        this.remove(dir, name, l);
        this.report.removed++;
      }
      node = this.#make(live.node(dir.id), name, s);
    }
    if (!this.#linked.has(s.id)) this.#linked.set(s.id, node.id);
    if (s.kind === Kind.Dir) this.dir(node, s);
    this.#attrs(live.node(node.id), s);
  }

  /** Brings live directory `l` to snapshot directory `s`, entry by entry. */
  dir(l: NodeRow, s: NodeRow): void {
    const want = entriesOf(this.snap, s.id);
    const have = entriesOf(this.live, l.id);
    for (const [name, node] of have) {
      if (want.has(name)) continue;
      this.remove(this.live.node(l.id), name, node);
      this.report.removed++;
    }
    for (const [name, sn] of want) this.entry(this.live.node(l.id), name, have.get(name), sn);
    this.#dirs.push([l, s]);
  }

  /** Directory times last: adding entries changed them. */
  finish(): void {
    for (const [l, s] of this.#dirs.reverse()) this.#attrs(this.live.node(l.id), s);
  }
}

/**
 * Brings live node `l` (entry `name` of `dir`, or the root when `dir` is
 * null) back to snapshot node `s`.
 */
export function restoreTree(
  live: Tree,
  snap: Tree,
  at: { dir: NodeRow | null; name: string | null; live: NodeRow | undefined; snap: NodeRow },
  remove: RemoveEntry,
): RestoreReport {
  const r = new Restorer(live, snap, remove);
  if (at.dir === null) r.dir(at.live!, at.snap);
  else r.entry(at.dir, at.name!, at.live, at.snap);
  r.finish();
  return r.report;
}

function attrsDiffer(a: NodeRow, b: NodeRow): boolean {
  return a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid ||
    (a.kind !== Kind.Dir && a.mtime !== b.mtime);
}

/** What changed from tree `a` (older) to tree `b` (newer), by path, in name order. */
export function* diffTrees(a: Tree, b: Tree): Generator<SnapshotChange> {
  yield* diffDir(a, a.node(a.root), b, b.node(b.root), "");
}

function* diffDir(
  a: Tree,
  da: NodeRow,
  b: Tree,
  db: NodeRow,
  prefix: string,
): Generator<SnapshotChange> {
  const ea = entriesOf(a, da.id);
  const eb = entriesOf(b, db.id);
  const names = [...new Set([...ea.keys(), ...eb.keys()])].sort();
  for (const name of names) {
    const p = `${prefix}/${name}`;
    const x = ea.get(name);
    const y = eb.get(name);
    if (!x) yield { change: "+", path: p };
    else if (!y) yield { change: "-", path: p };
    else if (x.kind !== y.kind) yield { change: "T", path: p };
    else if (x.kind === Kind.Dir) {
      if (attrsDiffer(x, y)) yield { change: "M", path: p };
      yield* diffDir(a, x, b, y, p);
    } else if (!sameThing(a, x, b, y) || attrsDiffer(x, y)) yield { change: "M", path: p };
  }
}
