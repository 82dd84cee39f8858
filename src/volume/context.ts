/**
 * What a volume's API objects share — its store, namespace and codec — and
 * the steps every call takes: waiting for another context's batch, a
 * consistent read or one write transaction, refusing writes to a
 * read-only volume, opening a handle on a file's content.
 *
 * @module
 */

import type { ChunkCodec } from "../chunks/codec.ts";
import { FileContent } from "../content/file_content.ts";
import type { Core } from "../core/core.ts";
import { InvalidArgument, IsADirectory, ReadOnly } from "../errors.ts";
import { Kind, type NodeRow } from "../tree/nodes.ts";
import type { Tree } from "../tree/tree.ts";
import type { FileInfo, OpenMode, OpenOptions } from "../types.ts";
import { FileHandle, type HandleMode } from "./handle.ts";
import { type CachedRead, ReadCache } from "./read_cache.ts";

const MODES: Record<OpenMode, OpenOptions> = {
  "r": { read: true },
  "r+": { read: true, write: true },
  "w": { write: true, create: true, truncate: true },
  "w+": { read: true, write: true, create: true, truncate: true },
  "a": { append: true, create: true },
  "a+": { read: true, append: true, create: true },
  "x": { write: true, createNew: true },
  "x+": { read: true, write: true, createNew: true },
};

/**
 * Validates open options the way Deno does, and fills in defaults.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openMode } from "./context.ts";
 * const m = openMode("a+");
 * assert(m.read && m.write && m.append);
 * ```
 */
export function openMode(options: OpenOptions | OpenMode | undefined): OpenOptions & HandleMode {
  let o: OpenOptions;
  if (typeof options === "string") {
    const m = MODES[options];
    if (!m) throw new InvalidArgument(`unknown open mode "${options}"`);
    o = m;
  } else {
    o = options ?? { read: true };
  }
  const write = !!(o.write || o.append);
  if ((o.create || o.createNew) && !write) {
    throw new InvalidArgument("'create' or 'createNew' needs 'write' or 'append'");
  }
  if (o.truncate && !o.write) throw new InvalidArgument("'truncate' needs 'write'");
  if (o.truncate && o.append) throw new InvalidArgument("'truncate' and 'append' conflict");
  const read = !!(o.read || (!write && o.read === undefined));
  if (!read && !write) throw new InvalidArgument("open needs 'read', 'write' or 'append'");
  return { ...o, read, write, append: !!o.append };
}

/** Nanoseconds from a Date or seconds since the epoch (as `Deno.utime` takes them). */
export function toNs(t: number | Date): bigint {
  if (t instanceof Date) return BigInt(t.getTime()) * 1_000_000n;
  if (typeof t !== "number" || !Number.isFinite(t)) {
    throw new InvalidArgument("a time must be a Date or seconds since the epoch");
  }
  return BigInt(Math.round(t * 1e6)) * 1000n;
}

/** What a volume's API objects share: its store, namespace and codec. */
export class VolumeContext {
  readonly core: Core;
  readonly tree: Tree;
  readonly codec: ChunkCodec;
  readonly readOnly: boolean;
  /** Reads by path, kept while the store is unchanged. */
  readonly cache: ReadCache;

  constructor(core: Core, options: { tree: Tree; codec: ChunkCodec; readOnly: boolean }) {
    this.core = core;
    this.tree = options.tree;
    this.codec = options.codec;
    this.readOnly = options.readOnly || core.readOnly;
    this.cache = new ReadCache(core.db);
  }

  async enter(): Promise<void> {
    if (this.core.closed) throw new InvalidArgument("the store is closed");
    await this.core.enter();
  }

  /** Runs `fn` as one consistent read. */
  async read<T>(fn: (tree: Tree) => T): Promise<T> {
    await this.enter();
    return this.core.db.read(() => fn(this.tree));
  }

  /**
   * A read of `path` through the cache: `hit` answers from what was kept
   * (undefined when that is not enough), else `miss` reads in one
   * transaction and may `keep` what it read. A file this process holds
   * open is never answered from the cache nor kept.
   */
  async cachedRead<T>(
    path: string,
    hit: (kept: CachedRead) => T | undefined,
    miss: (tree: Tree, keep: (read: CachedRead) => void) => T,
  ): Promise<T> {
    await this.enter();
    const kept = this.cache.peek(path);
    if (kept && !this.shared(kept.node)) {
      const r = hit(kept);
      if (r !== undefined && this.cache.valid()) return r;
    }
    const keep = (read: CachedRead) => {
      if (!this.shared(read.node)) this.cache.keep(path, read);
    };
    return this.core.db.read(() => miss(this.tree, keep));
  }

  /** Runs `fn` in one write transaction. */
  async write<T>(fn: (tree: Tree) => T): Promise<T> {
    await this.enter();
    this.assertWritable();
    return this.core.db.tx(() => fn(this.tree));
  }

  /** Throws `ReadOnly` unless the volume takes writes. */
  assertWritable(path?: string): void {
    if (this.readOnly) throw new ReadOnly("the volume is read-only", path);
  }

  /** The public view of a node, uncommitted writes included. */
  infoOf(n: NodeRow): FileInfo {
    const info = this.tree.info(n);
    const c = this.core.contents.get(n.id) as FileContent | undefined;
    if (c && c.dirty) {
      info.size = c.size;
      info.blocks = Math.ceil(c.size / 512);
      const m = c.pendingMtime;
      if (m !== null) {
        info.mtimeNs = m;
        info.mtime = new Date(Number(m / 1_000_000n));
        // A content change is a change of the node: ctime follows.
        if (m > info.ctimeNs) {
          info.ctimeNs = m;
          info.ctime = info.mtime;
        }
      }
    }
    return info;
  }

  /** The open content of a node this process shares, if any. */
  shared(id: number): FileContent | undefined {
    return this.core.contents.get(id) as FileContent | undefined;
  }

  /** The content of a node for a new handle. */
  contentFor(id: number, how: { isolated?: boolean; snapshot?: boolean } = {}): FileContent {
    const core = this.core;
    const codec = this.codec;
    if (how.snapshot) {
      // Not recorded in the store (a read should not write), but known to
      // this process, so an unlink here keeps the node until it closes.
      const c = new FileContent(this.tree, { codec, node: id, mode: "snapshot" });
      core.isolated.add(c);
      return c;
    }
    if (!how.isolated) {
      const found = this.shared(id);
      if (found) return found;
    }
    const mode = how.isolated ? "isolated" : "shared";
    const c = new FileContent(this.tree, { codec, node: id, mode });
    if (how.isolated) core.isolated.add(c);
    else core.contents.set(id, c);
    return c;
  }

  /** Opens a handle on a file node. */
  async openContent(
    n: NodeRow,
    mode: OpenOptions & HandleMode,
    path: string,
    how: { marked?: boolean } = {},
  ): Promise<FileHandle> {
    if (n.kind === Kind.Dir) throw new IsADirectory("is a directory", path);
    if (n.kind !== Kind.File) throw new InvalidArgument("not a regular file", path);
    if (mode.write) this.assertWritable(path);
    if (mode.snapshot && mode.write) {
      throw new InvalidArgument("a snapshot handle is read-only", path);
    }
    const content = this.contentFor(n.id, { isolated: mode.isolated, snapshot: mode.snapshot });
    const handle = new FileHandle(content, mode, {
      path,
      statNode: (id) => this.read((t) => this.infoOf(t.node(id))),
      stats: this.core.statsOf(this.tree.vol.id),
    });
    try {
      if (!this.core.readOnly && !mode.snapshot) content.register(how.marked);
      if (mode.truncate) await content.truncate(0);
    } catch (e) {
      await handle.discard();
      throw e;
    }
    return handle;
  }
}
