/**
 * Operations by node id, for callers that hold node ids rather than paths
 * (the kernel mount): the volume's {@linkcode NodeOperations}. Ids are
 * `FileInfo.ino`; the root is `rootIno`.
 *
 * @module
 */

import { nowNs } from "../clock.ts";
import { checkName } from "../paths.ts";
import { InvalidArgument, IsADirectory, NotADirectory, NotFound } from "../errors.ts";
import { Kind, KIND_BY_NAME, type NodeRow } from "../tree/nodes.ts";
import type { Tree } from "../tree/tree.ts";
import type {
  DirEntry,
  DirEntryPlus,
  FileInfo,
  OpenMode,
  OpenOptions,
  RenameOptions,
  SetAttributes,
  XattrOptions,
} from "../types.ts";
import type { NewNodeOptions, NodeOperations } from "./api.ts";
import { openMode, type VolumeContext } from "./context.ts";
import type { FileHandle } from "./handle.ts";

const PAGE = 512;

/**
 * A volume's operations by node id. Get it as `Volume.nodes`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Store } from "../../mod.ts";
 * await using store = await Store.open(":memory:", { create: true });
 * const vol = await store.volume();
 * const root = vol.nodes.rootIno;
 * const dir = await vol.nodes.create(root, "docs", { kind: "directory" });
 * await vol.nodes.create(dir.ino, "a.txt", { kind: "file", mode: 0o600 });
 * assert((await vol.nodes.lookup(dir.ino, "a.txt")).isFile);
 * ```
 */
export class NodeApi implements NodeOperations {
  readonly #vol: VolumeContext;

  /** @internal Node APIs come from `Volume.nodes`. */
  constructor(ctx: VolumeContext) {
    this.#vol = ctx;
  }

  /**
   * The root directory's node id.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * assert((await vol.nodes.stat(vol.nodes.rootIno)).isDirectory);
   * ```
   */
  get rootIno(): number {
    return this.#vol.tree.root;
  }

  #dir(t: Tree, ino: number): NodeRow {
    const d = t.node(ino);
    if (d.kind !== Kind.Dir) throw new NotADirectory("not a directory", `#${ino}`);
    return d;
  }

  /**
   * Metadata of a node.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * const info = await vol.nodes.create(vol.nodes.rootIno, "f", { kind: "file" });
   * assert((await vol.nodes.stat(info.ino)).isFile);
   * ```
   */
  stat(ino: number): Promise<FileInfo> {
    return this.#vol.read((t) => this.#vol.infoOf(t.node(ino)));
  }

  /**
   * Looks a name up in a directory; `NotFound` if absent, `NameTooLong`
   * for a name no entry can have.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.mkdir("/d");
   * assert((await vol.nodes.lookup(vol.nodes.rootIno, "d")).isDirectory);
   * ```
   */
  async lookup(dirIno: number, name: string): Promise<FileInfo> {
    const info = await this.find(dirIno, name);
    if (!info) throw new NotFound("no such file or directory", name);
    return info;
  }

  /**
   * Looks a name up in a directory; null if absent (no exception to build,
   * for callers that expect misses).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * assert((await vol.nodes.find(vol.nodes.rootIno, "nothing")) === null);
   * ```
   */
  find(dirIno: number, name: string): Promise<FileInfo | null> {
    return this.#vol.read((t) => {
      checkName(name); // a name over 255 bytes is too long, not absent
      // A hit proves the directory is one of this volume's; only a miss reads it.
      const n = t.child(dirIno, name);
      if (n) return this.#vol.infoOf(n);
      this.#dir(t, dirIno);
      return null;
    });
  }

  /**
   * A page of a directory's entries after `cookie` (an opaque key).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a", "a");
   * const { entries, cookie } = await vol.nodes.readDirPage(vol.nodes.rootIno, null);
   * assert(entries[0].name === "a" && cookie === null);
   * ```
   */
  readDirPage(
    dirIno: number,
    cookie: Uint8Array | null,
    limit = PAGE,
  ): Promise<{ entries: DirEntry[]; cookie: Uint8Array | null }> {
    return this.#vol.read((t) => {
      this.#dir(t, dirIno);
      const page = t.listPage(dirIno, cookie, limit);
      return {
        entries: page.map((p) => p.entry),
        cookie: page.length < limit ? null : page[page.length - 1].key,
      };
    });
  }

  /**
   * Every entry of a directory with its metadata, a page per query.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a", "abc");
   * for await (const e of vol.nodes.readDirPlus(vol.nodes.rootIno)) assert(e.info.size === 3);
   * ```
   */
  async *readDirPlus(
    dirIno: number,
    options: { xattrs?: boolean } = {},
  ): AsyncIterableIterator<DirEntryPlus> {
    let after: Uint8Array | null = null;
    while (true) {
      const { page, xattrs } = await this.#vol.read((t) => {
        this.#dir(t, dirIno);
        const page = t.listPagePlus(dirIno, after, PAGE);
        const xattrs = options.xattrs ? t.xattrs.of(page.map((e) => e.node.id)) : null;
        return { page, xattrs };
      });
      for (const e of page) {
        const info = this.#vol.infoOf(e.node);
        yield {
          name: e.name,
          isFile: info.isFile,
          isDirectory: info.isDirectory,
          isSymlink: info.isSymlink,
          ino: info.ino,
          info,
          ...(xattrs ? { xattrs: xattrs.get(e.node.id) ?? new Map() } : {}),
        };
      }
      if (page.length < PAGE) return;
      after = page[page.length - 1].key;
    }
  }

  /**
   * Creates a file, directory, symlink or special file in a directory
   * (`options` may be just the kind).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * const link = await vol.nodes.create(vol.nodes.rootIno, "l", { kind: "symlink", target: "x" });
   * assert(link.isSymlink);
   * ```
   */
  create(
    dirIno: number,
    name: string,
    options: NewNodeOptions | NewNodeOptions["kind"],
  ): Promise<FileInfo> {
    if (typeof options === "string") options = { kind: options };
    const kind = Object.hasOwn(KIND_BY_NAME, options.kind) ? KIND_BY_NAME[options.kind] : undefined;
    if (kind === undefined) throw new InvalidArgument(`unknown kind ${options.kind}`);
    return this.#vol.write((t) =>
      this.#vol.infoOf(t.node(t.entries.create(this.#dir(t, dirIno), name, { ...options, kind })))
    );
  }

  /**
   * Removes a non-directory entry.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a", "a");
   * await vol.nodes.unlink(vol.nodes.rootIno, "a");
   * assert(!(await vol.exists("/a")));
   * ```
   */
  async unlink(dirIno: number, name: string): Promise<void> {
    await this.#vol.write((t) => t.entries.unlink(this.#dir(t, dirIno), name));
  }

  /**
   * Removes an empty directory.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.mkdir("/d");
   * await vol.nodes.rmdir(vol.nodes.rootIno, "d");
   * assert(!(await vol.exists("/d")));
   * ```
   */
  async rmdir(dirIno: number, name: string): Promise<void> {
    await this.#vol.write((t) => t.entries.rmdir(this.#dir(t, dirIno), name));
  }

  /**
   * Renames an entry (renameat2 semantics).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a", "a");
   * const root = vol.nodes.rootIno;
   * await vol.nodes.rename({ dir: root, name: "a" }, { dir: root, name: "b" }, { noReplace: true });
   * assert(await vol.exists("/b"));
   * ```
   */
  async rename(
    from: { dir: number; name: string },
    to: { dir: number; name: string },
    options: RenameOptions = {},
  ): Promise<void> {
    await this.#vol.write((t) =>
      t.entries.rename(
        { dir: this.#dir(t, from.dir), name: from.name },
        { dir: this.#dir(t, to.dir), name: to.name },
        options,
      )
    );
  }

  /**
   * Adds a hard link to a node.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * const f = await vol.nodes.create(vol.nodes.rootIno, "a", { kind: "file" });
   * const linked = await vol.nodes.link(f.ino, { dir: vol.nodes.rootIno, name: "b" });
   * assert(linked.nlink === 2);
   * ```
   */
  link(ino: number, to: { dir: number; name: string }): Promise<FileInfo> {
    return this.#vol.write((t) =>
      this.#vol.infoOf(t.entries.link(t.node(ino), { dir: this.#dir(t, to.dir), name: to.name }))
    );
  }

  /**
   * The target of a symlink node.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.symlink("target", "/l");
   * const l = await vol.lstat("/l");
   * assert((await vol.nodes.readLink(l.ino)) === "target");
   * ```
   */
  readLink(ino: number): Promise<string> {
    return this.#vol.read((t) => {
      const n = t.node(ino);
      if (n.kind !== Kind.Symlink) throw new InvalidArgument("not a symlink", `#${ino}`);
      return t.target(n);
    });
  }

  /**
   * Changes mode, owner, size and times; returns the new metadata.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * const f = await vol.nodes.create(vol.nodes.rootIno, "a", { kind: "file" });
   * const after = await vol.nodes.setAttributes(f.ino, { mode: 0o600, size: 100, mtime: "now" });
   * assert(after.size === 100 && (after.mode & 0o777) === 0o600);
   * ```
   */
  async setAttributes(ino: number, attrs: SetAttributes): Promise<FileInfo> {
    this.#vol.assertWritable();
    if (attrs.size !== undefined) {
      // A truncate marks the times even when the size stays (as Linux does).
      attrs = { mtime: "now", ...attrs };
      const n = await this.#vol.read((t) => t.node(ino));
      if (n.kind === Kind.Dir) throw new IsADirectory("is a directory", `#${ino}`);
      const f = await this.#vol.openContent(n, openMode({ write: true }), `#${ino}`);
      try {
        await f.truncate(attrs.size);
      } finally {
        await f.close();
      }
    }
    const c = this.#vol.shared(ino);
    if (c && attrs.mtime !== undefined) c.setMtime(attrs.mtime === "now" ? nowNs() : attrs.mtime);
    return await this.#vol.write((t) => {
      t.setAttributes(t.node(ino), attrs);
      return this.#vol.infoOf(t.node(ino));
    });
  }

  /**
   * Opens a file node.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * const f = await vol.nodes.create(vol.nodes.rootIno, "a", { kind: "file" });
   * {
   *   await using h = await vol.nodes.open(f.ino, "w");
   *   await h.write(new TextEncoder().encode("by node"));
   * }
   * assert((await vol.readTextFile("/a")) === "by node");
   * ```
   */
  async open(ino: number, options?: OpenOptions | OpenMode): Promise<FileHandle> {
    const n = await this.#vol.read((t) => t.node(ino));
    return await this.#vol.openContent(n, openMode(options), `#${ino}`);
  }

  /**
   * Creates a regular file and opens it: the node and its open mark go in
   * one commit, where `create` then `open` take two.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * const { info, handle } = await vol.nodes.createOpen(vol.nodes.rootIno, "a", {}, "w");
   * await handle.write(new TextEncoder().encode("one commit"));
   * await handle.close();
   * assert(info.isFile && (await vol.readTextFile("/a")) === "one commit");
   * ```
   */
  async createOpen(
    dirIno: number,
    name: string,
    options: Omit<NewNodeOptions, "kind">,
    open?: OpenOptions | OpenMode,
  ): Promise<{ info: FileInfo; handle: FileHandle }> {
    const mode = openMode(open);
    const session = this.#vol.core.session;
    const { n, info } = await this.#vol.write((t) => {
      const dir = this.#dir(t, dirIno);
      const n = t.node(t.entries.create(dir, name, { ...options, kind: Kind.File }));
      session.markOpen(n.id);
      return { n, info: this.#vol.infoOf(n) };
    });
    try {
      const handle = await this.#vol.openContent(n, mode, `#${n.id}`, { marked: true });
      return { info, handle };
    } catch (e) {
      const entries = this.#vol.tree.entries;
      session.markClosedLater(n.id, () => entries.dropIfUnused(n.id));
      throw e;
    }
  }

  /**
   * The value of an extended attribute; `NoAttribute` if unset.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * const f = await vol.nodes.create(vol.nodes.rootIno, "a", { kind: "file" });
   * await vol.nodes.setXattr(f.ino, "user.k", new TextEncoder().encode("v"));
   * assert((await vol.nodes.getXattr(f.ino, "user.k")).length === 1);
   * ```
   */
  getXattr(ino: number, name: string): Promise<Uint8Array> {
    return this.#vol.read((t) => t.xattrs.get(t.node(ino), name));
  }

  /**
   * Sets an extended attribute.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * const f = await vol.nodes.create(vol.nodes.rootIno, "a", { kind: "file" });
   * await vol.nodes.setXattr(f.ino, "user.k", new Uint8Array([1]), { create: true });
   * assert((await vol.nodes.listXattrs(f.ino)).join() === "user.k");
   * ```
   */
  async setXattr(
    ino: number,
    name: string,
    value: Uint8Array,
    options: XattrOptions = {},
  ): Promise<void> {
    await this.#vol.write((t) => t.xattrs.set(t.node(ino), { name, value }, options));
  }

  /**
   * Removes an extended attribute; `NoAttribute` if unset.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * const f = await vol.nodes.create(vol.nodes.rootIno, "a", { kind: "file" });
   * await vol.nodes.setXattr(f.ino, "user.k", new Uint8Array([1]));
   * await vol.nodes.removeXattr(f.ino, "user.k");
   * assert((await vol.nodes.listXattrs(f.ino)).length === 0);
   * ```
   */
  async removeXattr(ino: number, name: string): Promise<void> {
    await this.#vol.write((t) => t.xattrs.remove(t.node(ino), name));
  }

  /**
   * Names of a node's extended attributes.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * const f = await vol.nodes.create(vol.nodes.rootIno, "a", { kind: "file" });
   * assert((await vol.nodes.listXattrs(f.ino)).length === 0);
   * ```
   */
  listXattrs(ino: number): Promise<string[]> {
    return this.#vol.read((t) => t.xattrs.list(t.node(ino)));
  }

  /**
   * The path of a node (its first link, for hard-linked files).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.mkdir("/a/b", { recursive: true });
   * const b = await vol.stat("/a/b");
   * assert((await vol.nodes.pathOf(b.ino)) === "/a/b");
   * ```
   */
  pathOf(ino: number): Promise<string> {
    return this.#vol.read((t) => t.pathOf(ino));
  }
}
