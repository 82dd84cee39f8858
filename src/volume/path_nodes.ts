/**
 * Operations by node id over any path-based file system (an overlay): an
 * inode table gives each path met a number of its own, kept across
 * renames and dropped on removal, so the kernel mount can serve file
 * systems that have no node ids. Two hard links of one file get two
 * numbers.
 *
 * @module
 */

import { InvalidArgument, IsADirectory, NotADirectory, NotFound, NotSupported } from "../errors.ts";
import { joinPath } from "../paths.ts";
import type {
  DirEntryPlus,
  FileInfo,
  OpenMode,
  OpenOptions,
  RenameOptions,
  SetAttributes,
  XattrOptions,
} from "../types.ts";
import { type FileSystem, hasXattrs, type NewNodeOptions, type NodeOperations } from "./api.ts";
import type { FileHandle } from "./handle.ts";

const ROOT = 1;
const NS = 1_000_000n;

/**
 * A file system's operations by node id, from an inode table.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Overlay, Store } from "../../mod.ts";
 * await using store = await Store.open(":memory:", { create: true });
 * await using view = await Overlay.open({ upper: await store.volume() });
 * const dir = await view.nodes.create(view.nodes.rootIno, "d", "directory");
 * assert((await view.nodes.lookup(view.nodes.rootIno, "d")).ino === dir.ino);
 * ```
 */
export class PathNodes implements NodeOperations {
  readonly rootIno = ROOT;
  readonly #fs: FileSystem;
  readonly #paths = new Map<number, string>([[ROOT, "/"]]);
  readonly #inos = new Map<string, number>([["/", ROOT]]);
  #next = ROOT + 1;

  constructor(fs: FileSystem) {
    this.#fs = fs;
  }

  #path(ino: number): string {
    const p = this.#paths.get(ino);
    if (p === undefined) throw new NotFound("no such node", `#${ino}`);
    return p;
  }

  #ino(path: string): number {
    let ino = this.#inos.get(path);
    if (ino === undefined) {
      ino = this.#next++;
      this.#inos.set(path, ino);
      this.#paths.set(ino, path);
    }
    return ino;
  }

  #forget(path: string): void {
    for (const [p, ino] of this.#inos) {
      if (p === path || p.startsWith(path + "/")) {
        this.#inos.delete(p);
        this.#paths.delete(ino);
      }
    }
  }

  #moved(from: string, to: string): void {
    this.#forget(to);
    for (const [p, ino] of [...this.#inos]) {
      if (p !== from && !p.startsWith(from + "/")) continue;
      const q = to + p.slice(from.length);
      this.#inos.delete(p);
      this.#inos.set(q, ino);
      this.#paths.set(ino, q);
    }
  }

  #with(path: string, info: FileInfo): FileInfo {
    return { ...info, ino: this.#ino(path) };
  }

  async stat(ino: number): Promise<FileInfo> {
    const p = this.#path(ino);
    return this.#with(p, await this.#fs.lstat(p));
  }

  async lookup(dirIno: number, name: string): Promise<FileInfo> {
    const p = joinPath(this.#path(dirIno), name);
    return this.#with(p, await this.#fs.lstat(p));
  }

  async *readDirPlus(
    dirIno: number,
    options?: { xattrs?: boolean },
  ): AsyncIterableIterator<DirEntryPlus> {
    const dir = this.#path(dirIno);
    for await (const e of this.#fs.readDirPlus(dir, options)) {
      const p = joinPath(dir, e.name);
      const info = this.#with(p, e.info);
      yield { ...e, ino: info.ino, info };
    }
  }

  async create(
    dirIno: number,
    name: string,
    options: NewNodeOptions | NewNodeOptions["kind"],
  ): Promise<FileInfo> {
    const o = typeof options === "string" ? { kind: options } : options;
    const p = joinPath(this.#path(dirIno), name);
    const fs = this.#fs;
    if (o.kind === "file") {
      await fs.writeFile(p, new Uint8Array(), { createNew: true, mode: o.mode });
    } else if (o.kind === "directory") await fs.mkdir(p, { mode: o.mode });
    else if (o.kind === "symlink") await fs.symlink(o.target ?? "", p);
    else await fs.mknod(p, { kind: o.kind, mode: o.mode, rdev: o.rdev });
    if (o.uid !== undefined || o.gid !== undefined) {
      if (o.kind !== "symlink") await fs.chown(p, o.uid ?? null, o.gid ?? null);
    }
    this.#forget(p);
    return this.#with(p, await fs.lstat(p));
  }

  async unlink(dirIno: number, name: string): Promise<void> {
    const p = joinPath(this.#path(dirIno), name);
    if ((await this.#fs.lstat(p)).isDirectory) throw new IsADirectory("is a directory", p);
    await this.#fs.remove(p);
    this.#forget(p);
  }

  async rmdir(dirIno: number, name: string): Promise<void> {
    const p = joinPath(this.#path(dirIno), name);
    if (!(await this.#fs.lstat(p)).isDirectory) throw new NotADirectory("not a directory", p);
    await this.#fs.remove(p);
    this.#forget(p);
  }

  async rename(
    from: { dir: number; name: string },
    to: { dir: number; name: string },
    options: RenameOptions = {},
  ): Promise<void> {
    if (options.exchange) throw new NotSupported("RENAME_EXCHANGE on a layered view", from.name);
    const a = joinPath(this.#path(from.dir), from.name);
    const b = joinPath(this.#path(to.dir), to.name);
    await this.#fs.rename(a, b, options);
    this.#moved(a, b);
  }

  async link(ino: number, to: { dir: number; name: string }): Promise<FileInfo> {
    const p = joinPath(this.#path(to.dir), to.name);
    await this.#fs.link(this.#path(ino), p);
    return this.#with(p, await this.#fs.lstat(p));
  }

  readLink(ino: number): Promise<string> {
    return this.#fs.readLink(this.#path(ino));
  }

  async setAttributes(ino: number, attrs: SetAttributes): Promise<FileInfo> {
    const p = this.#path(ino);
    const fs = this.#fs;
    if (attrs.size !== undefined) await fs.truncate(p, attrs.size);
    if (attrs.mode !== undefined) await fs.chmod(p, attrs.mode);
    if (attrs.uid !== undefined || attrs.gid !== undefined) {
      await fs.chown(p, attrs.uid ?? null, attrs.gid ?? null);
    }
    if (attrs.atime !== undefined || attrs.mtime !== undefined || attrs.size !== undefined) {
      const now = await fs.lstat(p);
      const time = (t: bigint | "now" | undefined, old: bigint) =>
        new Date(Number((t === "now" ? BigInt(Date.now()) * NS : t ?? old) / NS));
      await fs.utime(
        p,
        time(attrs.atime, now.atimeNs),
        time(attrs.mtime ?? (attrs.size !== undefined ? "now" : undefined), now.mtimeNs),
      );
    }
    return this.#with(p, await fs.lstat(p));
  }

  open(ino: number, options?: OpenOptions | OpenMode): Promise<FileHandle> {
    return this.#fs.open(this.#path(ino), options);
  }

  getXattr(ino: number, name: string): Promise<Uint8Array> {
    if (!hasXattrs(this.#fs)) {
      return Promise.reject(new NotSupported("no extended attributes", name));
    }
    return this.#fs.getXattr(this.#path(ino), name);
  }

  async setXattr(ino: number, name: string, value: Uint8Array, options?: XattrOptions) {
    if (!hasXattrs(this.#fs)) throw new NotSupported("no extended attributes", name);
    await this.#fs.setXattr(this.#path(ino), name, value, options);
  }

  async removeXattr(ino: number, name: string): Promise<void> {
    if (!hasXattrs(this.#fs)) throw new NotSupported("no extended attributes", name);
    await this.#fs.removeXattr(this.#path(ino), name);
  }

  async listXattrs(ino: number): Promise<string[]> {
    return hasXattrs(this.#fs) ? await this.#fs.listXattrs(this.#path(ino)) : [];
  }

  pathOf(ino: number): Promise<string> {
    try {
      return Promise.resolve(this.#path(ino));
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new InvalidArgument(String(e)));
    }
  }
}
