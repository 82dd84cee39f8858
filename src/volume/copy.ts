/**
 * Copies inside a volume, in one transaction each: a file's content is a
 * new version sharing every chunk of the source, so a copy costs no
 * content bytes however large the tree.
 *
 * @module
 */

import { nowNs } from "../clock.ts";
import { copyVersion } from "../content/versions.ts";
import { AlreadyExists, InvalidArgument, IsADirectory } from "../errors.ts";
import { type CreateOptions, Kind, type NodeRow } from "../tree/nodes.ts";
import type { Tree } from "../tree/tree.ts";
import type { CopyOptions } from "../types.ts";

const PAGE = 512;

/** Copies one node (and, for directories, everything below) into `dir` as `name`. */
function copyNode(t: Tree, src: NodeRow, to: { dir: NodeRow; name: string }, preserve: boolean) {
  const opts: CreateOptions = { mode: src.mode, uid: src.uid, gid: src.gid, rdev: src.rdev };
  if (src.kind === Kind.Symlink) opts.target = t.target(src);
  let copy = t.node(t.entries.create(to.dir, to.name, { kind: src.kind, ...opts }));
  // A set-group-ID directory gave the copy its group: a copy keeps the source's.
  if (copy.gid !== src.gid || copy.mode !== src.mode) {
    t.setAttributes(copy, { gid: src.gid, mode: src.mode });
    copy = t.node(copy.id);
  }
  if (src.kind === Kind.File && src.version !== null) {
    copyVersion(t, copy.id, {
      version: src.version,
      size: src.size,
      mtime: preserve ? src.mtime : nowNs(),
    });
  }
  if (src.kind === Kind.Dir) {
    let after: Uint8Array | null = null;
    while (true) {
      const page = t.listPagePlus(src.id, after, PAGE);
      for (const e of page) copyNode(t, e.node, { dir: t.node(copy.id), name: e.name }, preserve);
      if (page.length < PAGE) break;
      after = page[page.length - 1].key;
    }
  }
  t.xattrs.copy(src, copy);
  if (preserve) t.setAttributes(t.node(copy.id), { atime: src.atime, mtime: src.mtime });
}

/** Copies a file or a whole tree (`Volume.copy`); runs inside a transaction. */
export function copyTree(t: Tree, from: string, to: string, options: CopyOptions = {}): void {
  const preserve = options.preserveTimestamps ?? true;
  const src = t.existing(from, false);
  let r = t.resolve(to, false);
  const intoItself = (dir: NodeRow) => src.kind === Kind.Dir && t.isAncestor(src.id, dir.id);
  if (r.node) {
    if (!options.overwrite) throw new AlreadyExists("destination exists", to);
    if (!r.dir) throw new InvalidArgument("cannot replace the volume root", to);
    if (intoItself(r.dir)) throw new InvalidArgument("cannot copy a directory into itself", to);
    if (r.node.id === src.id) return;
    // Replaced, not removed: no trash.
    if (r.node.kind === Kind.Dir) t.entries.removeTree(r.dir, r.name!, { keep: false });
    else t.entries.unlink(r.dir, r.name!, { keep: false });
    r = t.resolve(to, false);
  }
  if (!r.dir) throw new InvalidArgument("cannot replace the volume root", to);
  if (intoItself(r.dir)) throw new InvalidArgument("cannot copy a directory into itself", to);
  copyNode(t, src, { dir: t.node(r.dir.id), name: r.name! }, preserve);
}

/** Copies a file's content (sharing every chunk) and permissions (`Volume.copyFile`). */
export function copyFileContent(t: Tree, from: string, to: string): void {
  const src = t.existing(from, true);
  if (src.kind !== Kind.File) throw new IsADirectory("not a regular file", from);
  const r = t.resolve(to, true);
  let dst: NodeRow;
  if (r.node) {
    if (r.node.kind === Kind.Dir) throw new IsADirectory("is a directory", to);
    if (r.node.id === src.id) return;
    dst = r.node;
    t.setAttributes(dst, { mode: src.mode });
  } else {
    if (!r.dir) throw new IsADirectory("is a directory", to);
    dst = t.node(t.entries.create(r.dir, r.name!, { kind: Kind.File, mode: src.mode }));
  }
  copyVersion(t, dst.id, { version: src.version, size: src.size, mtime: nowNs() });
}
