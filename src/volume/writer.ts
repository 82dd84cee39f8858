/**
 * The writing half of the volume API: creating, writing, moving, copying
 * and removing files and trees, attributes, and atomic batches.
 *
 * @module
 */

import { AlreadyExists, InvalidArgument, NotFound } from "../errors.ts";
import { splitPath } from "../paths.ts";
import { isSpecial, Kind, KIND_BY_NAME } from "../tree/nodes.ts";
import type {
  CopyOptions,
  MkdirOptions,
  MknodOptions,
  RemoveOptions,
  RenameOptions,
  WriteFileOptions,
  XattrOptions,
} from "../types.ts";
import { openMode, toNs } from "./context.ts";
import { copyFileContent, copyTree } from "./copy.ts";
import type { FileHandle } from "./handle.ts";
import { writeFile } from "./write.ts";

import { VolumeReader } from "./reader.ts";

const encoder = new TextEncoder();

/**
 * The write calls of a volume (every one refused with `ReadOnly` on a
 * read-only volume).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Store } from "../../mod.ts";
 * await using store = await Store.open(":memory:", { create: true });
 * const vol = await store.volume(); // a Volume is a VolumeWriter
 * await vol.writeTextFile("/a.txt", "a");
 * assert(await vol.exists("/a.txt"));
 * ```
 */
export abstract class VolumeWriter extends VolumeReader {
  /**
   * Creates a file open for writing, truncating an existing one.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * {
   *   await using f = await vol.create("/new.txt");
   *   await f.write(new TextEncoder().encode("fresh"));
   * }
   * assert((await vol.readTextFile("/new.txt")) === "fresh");
   * ```
   */
  create(path: string): Promise<FileHandle> {
    return this.open(path, "w+");
  }

  /**
   * Writes a whole file, replacing its content in one step: readers see the
   * old content until the new one commits. `data` may be a stream.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * const path = await Deno.makeTempFile({ suffix: ".trove" });
   * await Deno.remove(path);
   * await using store = await Store.open(path, { create: true });
   * const vol = await store.volume();
   * await vol.writeFile("/a.bin", new Uint8Array([1, 2, 3]));
   * assert((await vol.readFile("/a.bin")).length === 3);
   * await Deno.remove(path);
   * ```
   */
  writeFile(
    path: string,
    data: Uint8Array | ReadableStream<Uint8Array>,
    options: WriteFileOptions = {},
  ): Promise<void> {
    return writeFile(this.ctx, path, data, options);
  }

  /**
   * Writes a whole file from a string, as UTF-8.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/log.txt", "one\n");
   * await vol.writeTextFile("/log.txt", "two\n", { append: true });
   * assert((await vol.readTextFile("/log.txt")) === "one\ntwo\n");
   * ```
   */
  writeTextFile(path: string, text: string, options: WriteFileOptions = {}): Promise<void> {
    return this.writeFile(path, encoder.encode(text), options);
  }

  /**
   * Creates a directory (and its missing parents with `recursive`).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.mkdir("/a/b/c", { recursive: true });
   * assert((await vol.stat("/a/b/c")).isDirectory);
   * ```
   */
  async mkdir(path: string, options: MkdirOptions = {}): Promise<void> {
    await this.ctx.write((t) => {
      const names = splitPath(path);
      const kind = Kind.Dir;
      if (!options.recursive) {
        const r = t.resolve(path, true);
        if (r.node || !r.dir) throw new AlreadyExists("file exists", path);
        t.entries.create(r.dir, r.name!, { kind, mode: options.mode });
        return;
      }
      let dir = t.node(t.root);
      for (const name of names) {
        const child = t.lookup(dir, name);
        if (child && child.kind === Kind.Symlink) {
          dir = t.existing(t.pathOf(dir.id) + "/" + name, true);
        } else if (child) {
          dir = child;
        } else {
          dir = t.node(t.entries.create(dir, name, { kind, mode: options.mode }));
          continue;
        }
        if (dir.kind !== Kind.Dir) throw new AlreadyExists("not a directory", path);
      }
    });
  }

  /**
   * Removes a file, symlink or empty directory; a whole tree with `recursive`.
   * With the volume's trash on (the default), a removed file or tree goes
   * to the trash (`trash()`, `undelete()`); `permanent` deletes it at once.
   * An empty directory removed on its own is not kept.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.mkdir("/old/deep", { recursive: true });
   * await vol.remove("/old", { recursive: true });
   * assert(!(await vol.exists("/old")));
   * ```
   */
  async remove(path: string, options: RemoveOptions = {}): Promise<void> {
    await this.ctx.write((t) => {
      const r = t.resolve(path, false);
      if (!r.node) throw new NotFound("no such file or directory", path);
      if (!r.dir) throw new InvalidArgument("the volume root cannot be removed", path);
      const keep = options.permanent ? false : undefined;
      if (r.node.kind !== Kind.Dir) t.entries.unlink(r.dir, r.name!, { keep });
      else if (options.recursive) t.entries.removeTree(r.dir, r.name!, { keep });
      else t.entries.rmdir(r.dir, r.name!);
    });
  }

  /**
   * Renames or moves an entry, replacing the destination as POSIX does.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/draft.md", "…");
   * await vol.rename("/draft.md", "/plan.md");
   * assert(await vol.exists("/plan.md") && !(await vol.exists("/draft.md")));
   * ```
   */
  async rename(oldPath: string, newPath: string, options: RenameOptions = {}): Promise<void> {
    await this.ctx.write((t) => {
      const from = t.resolve(oldPath, false);
      if (!from.node) throw new NotFound("no such file or directory", oldPath);
      const to = t.resolve(newPath, false);
      if (!from.dir || !to.dir) throw new InvalidArgument("cannot rename the volume root");
      t.entries.rename(
        { dir: from.dir, name: from.name! },
        { dir: to.dir, name: to.name! },
        options,
      );
    });
  }

  /**
   * Creates a hard link `newPath` to the file at `oldPath`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a", "shared");
   * await vol.link("/a", "/b");
   * assert((await vol.stat("/b")).nlink === 2);
   * ```
   */
  async link(oldPath: string, newPath: string): Promise<void> {
    await this.ctx.write((t) => {
      const n = t.existing(oldPath, false);
      const to = t.resolve(newPath, false);
      if (to.node || !to.dir) throw new AlreadyExists("file exists", newPath);
      t.entries.link(n, { dir: to.dir, name: to.name! });
    });
  }

  /**
   * Creates a symlink at `path` pointing to `target`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/target", "t");
   * await vol.symlink("target", "/link");
   * assert((await vol.readTextFile("/link")) === "t");
   * ```
   */
  async symlink(target: string, path: string): Promise<void> {
    await this.ctx.write((t) => {
      const r = t.resolve(path, false);
      if (r.node || !r.dir) throw new AlreadyExists("file exists", path);
      t.entries.create(r.dir, r.name!, { kind: Kind.Symlink, target });
    });
  }

  /**
   * Creates a special file at `path`: a FIFO, a socket or a device node.
   * It has attributes but never content: reading or opening one is
   * refused, and it has no versions.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.mknod("/queue", { kind: "fifo", mode: 0o600 });
   * await vol.mknod("/null", { kind: "charDevice", rdev: (1 << 8) | 3 });
   * assert((await vol.stat("/queue")).isFifo);
   * assert((await vol.stat("/null")).rdev === 259);
   * ```
   */
  async mknod(path: string, options: MknodOptions): Promise<void> {
    const kind = Object.hasOwn(KIND_BY_NAME, options?.kind) ? KIND_BY_NAME[options.kind] : 0;
    if (!isSpecial(kind as Kind)) {
      throw new InvalidArgument(`mknod makes fifo, socket, charDevice or blockDevice`, path);
    }
    await this.ctx.write((t) => {
      const r = t.resolve(path, false);
      if (r.node || !r.dir) throw new AlreadyExists("file exists", path);
      t.entries.create(r.dir, r.name!, {
        kind: kind as Kind,
        mode: options.mode,
        rdev: options.rdev,
      });
    });
  }

  /**
   * Sets a file's size (default 0), as a new version.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a.txt", "abcdef");
   * await vol.truncate("/a.txt", 2);
   * assert((await vol.readTextFile("/a.txt")) === "ab");
   * ```
   */
  async truncate(path: string, len = 0): Promise<void> {
    const n = await this.ctx.read((t) => t.existing(path, true));
    const f = await this.ctx.openContent(n, openMode({ write: true }), path);
    try {
      await f.truncate(len);
    } finally {
      await f.close();
    }
  }

  /**
   * Sets access and modification times (seconds since the epoch, or Dates).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a.txt", "a");
   * const t = new Date("2001-02-03T04:05:06Z");
   * await vol.utime("/a.txt", t, t);
   * assert((await vol.stat("/a.txt")).mtime.getTime() === t.getTime());
   * ```
   */
  async utime(path: string, atime: number | Date, mtime: number | Date): Promise<void> {
    const a = toNs(atime);
    const m = toNs(mtime);
    const n = await this.ctx.read((t) => t.existing(path, true));
    await this.nodes.setAttributes(n.id, { atime: a, mtime: m });
  }

  /**
   * Sets permission bits.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/run.sh", "#!/bin/sh\n");
   * await vol.chmod("/run.sh", 0o755);
   * assert(((await vol.stat("/run.sh")).mode & 0o777) === 0o755);
   * ```
   */
  async chmod(path: string, mode: number): Promise<void> {
    const n = await this.ctx.read((t) => t.existing(path, true));
    await this.nodes.setAttributes(n.id, { mode });
  }

  /**
   * Sets the owner.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a.txt", "a");
   * await vol.chown("/a.txt", 1000, 1000);
   * assert((await vol.stat("/a.txt")).uid === 1000);
   * ```
   */
  async chown(path: string, uid: number | null, gid: number | null): Promise<void> {
    const n = await this.ctx.read((t) => t.existing(path, true));
    await this.nodes.setAttributes(n.id, { uid: uid ?? undefined, gid: gid ?? undefined });
  }

  /**
   * Copies a file's content (sharing every chunk) and permissions.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a.txt", "same bytes");
   * await vol.copyFile("/a.txt", "/b.txt");
   * assert((await vol.info()).chunks === 1); // the chunk is shared
   * ```
   */
  async copyFile(from: string, to: string): Promise<void> {
    await this.ctx.write((t) => copyFileContent(t, from, to));
  }

  /**
   * Copies a file or a whole tree in one transaction. Content is shared, so
   * a copy costs no content bytes however large the tree.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.mkdir("/photos/2026", { recursive: true });
   * await vol.writeTextFile("/photos/2026/cat.jpg", "…");
   * await vol.copy("/photos", "/backup");
   * assert(await vol.exists("/backup/2026/cat.jpg"));
   * ```
   */
  async copy(from: string, to: string, options: CopyOptions = {}): Promise<void> {
    await this.ctx.write((t) => copyTree(t, from, to, options));
  }

  /**
   * Runs `fn` as one atomic transaction: every change it makes commits
   * together, or none does if it throws. Other work on the store waits.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * const path = await Deno.makeTempFile({ suffix: ".trove" });
   * await Deno.remove(path);
   * await using store = await Store.open(path, { create: true });
   * const vol = await store.volume();
   * try {
   *   await vol.batch(async () => {
   *     await vol.writeTextFile("/a", "1");
   *     throw new Error("changed my mind");
   *   });
   * } catch { /* rolled back *\/ }
   * assert(!(await vol.exists("/a")));
   * await Deno.remove(path);
   * ```
   */
  async batch<T>(fn: (volume: this) => Promise<T> | T): Promise<T> {
    this.ctx.assertWritable();
    await this.ctx.enter();
    return await this.ctx.core.batch(() => fn(this));
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
   * await vol.writeTextFile("/a.txt", "a");
   * await vol.setXattr("/a.txt", "user.color", "blue", { create: true });
   * assert((await vol.listXattrs("/a.txt")).includes("user.color"));
   * ```
   */
  async setXattr(
    path: string,
    name: string,
    value: Uint8Array | string,
    options: XattrOptions = {},
  ): Promise<void> {
    const v = typeof value === "string" ? encoder.encode(value) : value;
    await this.ctx.write((t) => t.xattrs.set(t.existing(path, true), { name, value: v }, options));
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
   * await vol.writeTextFile("/a.txt", "a");
   * await vol.setXattr("/a.txt", "user.color", "blue");
   * await vol.removeXattr("/a.txt", "user.color");
   * assert((await vol.listXattrs("/a.txt")).length === 0);
   * ```
   */
  async removeXattr(path: string, name: string): Promise<void> {
    await this.ctx.write((t) => t.xattrs.remove(t.existing(path, true), name));
  }
}
