/**
 * Operations by node id, for callers that hold node ids rather than paths
 * (the kernel mount): the volume's {@linkcode NodeOperations}. Ids are
 * `FileInfo.ino`; the root is `rootIno`.
 *
 * @module
 */

import { nowNs } from "../clock.ts";
import { InvalidArgument, IsADirectory, NotADirectory, NotFound } from "../errors.ts";
import { Kind, type NodeRow } from "../tree/nodes.ts";
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
const KINDS = { file: Kind.File, directory: Kind.Dir, symlink: Kind.Symlink } as const;

/** A volume's operations by node id. Get it as `Volume.nodes`. */
export class NodeApi implements NodeOperations {
  readonly #vol: VolumeContext;

  /** @internal Node APIs come from `Volume.nodes`. */
  constructor(ctx: VolumeContext) {
    this.#vol = ctx;
  }

  /** The root directory's node id. */
  get rootIno(): number {
    return this.#vol.tree.root;
  }

  #dir(t: Tree, ino: number): NodeRow {
    const d = t.node(ino);
    if (d.kind !== Kind.Dir) throw new NotADirectory("not a directory", `#${ino}`);
    return d;
  }

  /** Metadata of a node. */
  stat(ino: number): Promise<FileInfo> {
    return this.#vol.read((t) => this.#vol.infoOf(t.node(ino)));
  }

  /** Looks a name up in a directory; `NotFound` if absent. */
  lookup(dirIno: number, name: string): Promise<FileInfo> {
    return this.#vol.read((t) => {
      const n = t.lookup(this.#dir(t, dirIno), name);
      if (!n) throw new NotFound("no such file or directory", name);
      return this.#vol.infoOf(n);
    });
  }

  /** A page of a directory's entries after `cookie` (an opaque key). */
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

  /** Every entry of a directory with its metadata, a page per query. */
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
   * Creates a file, directory or symlink in a directory (`options` may be
   * just the kind).
   */
  create(
    dirIno: number,
    name: string,
    options: NewNodeOptions | NewNodeOptions["kind"],
  ): Promise<FileInfo> {
    if (typeof options === "string") options = { kind: options };
    const kind = KINDS[options.kind];
    if (kind === undefined) throw new InvalidArgument(`unknown kind ${options.kind}`);
    return this.#vol.write((t) =>
      this.#vol.infoOf(t.node(t.entries.create(this.#dir(t, dirIno), name, { ...options, kind })))
    );
  }

  /** Removes a non-directory entry. */
  async unlink(dirIno: number, name: string): Promise<void> {
    await this.#vol.write((t) => t.entries.unlink(this.#dir(t, dirIno), name));
  }

  /** Removes an empty directory. */
  async rmdir(dirIno: number, name: string): Promise<void> {
    await this.#vol.write((t) => t.entries.rmdir(this.#dir(t, dirIno), name));
  }

  /** Renames an entry (renameat2 semantics). */
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

  /** Adds a hard link to a node. */
  link(ino: number, to: { dir: number; name: string }): Promise<FileInfo> {
    return this.#vol.write((t) =>
      this.#vol.infoOf(t.entries.link(t.node(ino), { dir: this.#dir(t, to.dir), name: to.name }))
    );
  }

  /** The target of a symlink node. */
  readLink(ino: number): Promise<string> {
    return this.#vol.read((t) => {
      const n = t.node(ino);
      if (n.kind !== Kind.Symlink) throw new InvalidArgument("not a symlink", `#${ino}`);
      return t.target(n);
    });
  }

  /** Changes mode, owner, size and times; returns the new metadata. */
  async setAttributes(ino: number, attrs: SetAttributes): Promise<FileInfo> {
    this.#vol.assertWritable();
    if (attrs.size !== undefined) {
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

  /** Opens a file node. */
  async open(ino: number, options?: OpenOptions | OpenMode): Promise<FileHandle> {
    const n = await this.#vol.read((t) => t.node(ino));
    return await this.#vol.openContent(n, openMode(options), `#${ino}`);
  }

  /** The value of an extended attribute; `NoAttribute` if unset. */
  getXattr(ino: number, name: string): Promise<Uint8Array> {
    return this.#vol.read((t) => t.xattrs.get(t.node(ino), name));
  }

  /** Sets an extended attribute. */
  async setXattr(
    ino: number,
    name: string,
    value: Uint8Array,
    options: XattrOptions = {},
  ): Promise<void> {
    await this.#vol.write((t) => t.xattrs.set(t.node(ino), { name, value }, options));
  }

  /** Removes an extended attribute; `NoAttribute` if unset. */
  async removeXattr(ino: number, name: string): Promise<void> {
    await this.#vol.write((t) => t.xattrs.remove(t.node(ino), name));
  }

  /** Names of a node's extended attributes. */
  listXattrs(ino: number): Promise<string[]> {
    return this.#vol.read((t) => t.xattrs.list(t.node(ino)));
  }

  /** The path of a node (its first link, for hard-linked files). */
  pathOf(ino: number): Promise<string> {
    return this.#vol.read((t) => t.pathOf(ino));
  }
}
