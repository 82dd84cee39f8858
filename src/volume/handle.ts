/**
 * An open file, shaped like `Deno.FsFile`. Writes become visible to other
 * processes when the handle commits: on `sync` and on `close`. A handle
 * keeps working after its path is unlinked, until it is closed.
 *
 * @module
 */

import type { OpStats } from "../core/stats.ts";
import type { FileContent } from "../content/file_content.ts";
import { InvalidArgument, PermissionDenied, withPath } from "../errors.ts";
import type { FileInfo } from "../types.ts";

/** Where `seek` counts from; the same values as `Deno.SeekMode`. */
export enum SeekMode {
  Start = 0,
  Current = 1,
  End = 2,
}

/** What a handle may do, fixed at open. */
export interface HandleMode {
  read: boolean;
  write: boolean;
  append: boolean;
}

/** How a handle reaches back to its volume. */
export interface HandleHost {
  statNode(id: number): Promise<FileInfo>;
  /** The path the handle was opened by, named in its errors. */
  path?: string;
  /** The volume's operation counters, which count the handle's bytes. */
  stats?: OpStats;
}

/**
 * An open file of a volume.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Store } from "../../mod.ts";
 * await using store = await Store.open(":memory:", { create: true });
 * const vol = await store.volume();
 * await using f = await vol.open("/notes.txt", { write: true, create: true, read: true });
 * await f.write(new TextEncoder().encode("hello"));
 * await f.seek(0);
 * const buf = new Uint8Array(5);
 * await f.read(buf);
 * assert(new TextDecoder().decode(buf) === "hello");
 * ```
 */
export class FileHandle implements AsyncDisposable {
  readonly #content: FileContent;
  readonly #mode: HandleMode;
  readonly #host: HandleHost;
  #pos = 0;
  #closed = false;

  /** @internal Handles come from `Volume.open`. */
  constructor(content: FileContent, mode: HandleMode, host: HandleHost) {
    this.#content = content;
    this.#mode = mode;
    this.#host = host;
    content.handles++;
  }

  /**
   * The node id of the open file.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await using f = await vol.create("/a");
   * assert(f.ino === (await vol.stat("/a")).ino);
   * ```
   */
  get ino(): number {
    return this.#content.nodeId;
  }

  /**
   * True until `close`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * const f = await vol.create("/a");
   * await f.close();
   * assert(!f.isOpen);
   * ```
   */
  get isOpen(): boolean {
    return !this.#closed;
  }

  #check(need?: "read" | "write"): void {
    if (this.#closed) throw new InvalidArgument("the file handle is closed");
    if (need === "read" && !this.#mode.read) {
      throw new PermissionDenied("the file was not opened for reading");
    }
    if (need === "write" && !this.#mode.write) {
      throw new PermissionDenied("the file was not opened for writing");
    }
  }

  /**
   * Reads into `p` from the current position; resolves to the number of
   * bytes read, or null at end of file (like `Deno.FsFile.read`).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a.txt", "abc");
   * await using f = await vol.open("/a.txt");
   * const buf = new Uint8Array(8);
   * assert((await f.read(buf)) === 3 && (await f.read(buf)) === null);
   * ```
   */
  async read(p: Uint8Array): Promise<number | null> {
    this.#check("read");
    if (p.length === 0) return 0;
    const t0 = performance.now();
    const n = await this.#named(this.#content.readInto(this.#pos, p));
    this.#host.stats?.add("handle.read", performance.now() - t0, 0, n);
    if (n === 0) return null;
    this.#pos += n;
    return n;
  }

  /**
   * Writes all of `p` at the current position (at the end when appending).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * {
   *   await using f = await vol.open("/a.txt", "w");
   *   await f.write(new TextEncoder().encode("written"));
   * }
   * assert((await vol.readTextFile("/a.txt")) === "written");
   * ```
   */
  async write(p: Uint8Array): Promise<number> {
    this.#check("write");
    if (this.#mode.append) this.#pos = this.#content.size;
    const t0 = performance.now();
    const n = await this.#content.write(this.#pos, p);
    this.#host.stats?.add("handle.write", performance.now() - t0, n);
    this.#pos += n;
    return n;
  }

  /**
   * Reads up to `length` bytes at `offset` without moving the position.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a.txt", "0123456789");
   * await using f = await vol.open("/a.txt");
   * assert(new TextDecoder().decode(await f.readAt(4, 3)) === "456");
   * ```
   */
  async readAt(offset: number, length: number): Promise<Uint8Array> {
    this.#check("read");
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new InvalidArgument(`invalid offset ${offset}`);
    }
    const t0 = performance.now();
    const out = await this.#named(this.#content.read(offset, length));
    this.#host.stats?.add("handle.read", performance.now() - t0, 0, out.length);
    return out;
  }

  /** Names this handle's path in a storage error that names nothing. */
  async #named<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (e) {
      throw this.#host.path === undefined ? e : withPath(e, this.#host.path);
    }
  }

  /**
   * Writes `p` at `offset` without moving the position.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a.txt", "0123456789");
   * {
   *   await using f = await vol.open("/a.txt", "r+");
   *   await f.writeAt(2, new TextEncoder().encode("ab"));
   * }
   * assert((await vol.readTextFile("/a.txt")) === "01ab456789");
   * ```
   */
  async writeAt(offset: number, p: Uint8Array): Promise<number> {
    this.#check("write");
    const t0 = performance.now();
    const n = await this.#content.write(this.#mode.append ? this.#content.size : offset, p);
    this.#host.stats?.add("handle.write", performance.now() - t0, n);
    return n;
  }

  /** Moves the position; resolves to the new position from the start. */
  /**
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { SeekMode, Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a.txt", "0123456789");
   * await using f = await vol.open("/a.txt");
   * assert((await f.seek(-3, SeekMode.End)) === 7);
   * ```
   */
  // deno-lint-ignore require-await
  async seek(offset: number | bigint, whence: SeekMode = SeekMode.Start): Promise<number> {
    this.#check();
    const off = Number(offset);
    const base = whence === SeekMode.Start
      ? 0
      : whence === SeekMode.Current
      ? this.#pos
      : whence === SeekMode.End
      ? this.#content.size
      : NaN;
    const pos = base + off;
    if (!Number.isSafeInteger(pos) || pos < 0) {
      throw new InvalidArgument(`invalid seek to ${pos}`);
    }
    this.#pos = pos;
    return pos;
  }

  /**
   * Sets the file's size (default 0).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a.txt", "0123456789");
   * {
   *   await using f = await vol.open("/a.txt", "r+");
   *   await f.truncate(4);
   * }
   * assert((await vol.readTextFile("/a.txt")) === "0123");
   * ```
   */
  async truncate(len = 0): Promise<void> {
    this.#check("write");
    await this.#content.truncate(len);
  }

  /**
   * The file's metadata, uncommitted writes included.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await using f = await vol.open("/a.txt", "w+");
   * await f.write(new Uint8Array(10));
   * assert((await f.stat()).size === 10); // uncommitted writes included
   * ```
   */
  async stat(): Promise<FileInfo> {
    this.#check();
    return await this.#host.statNode(this.#content.nodeId);
  }

  /**
   * Commits uncommitted writes and syncs them to disk.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await using f = await vol.open("/a.txt", "w");
   * await f.write(new TextEncoder().encode("durable"));
   * await f.sync(); // committed and on disk now
   * assert((await vol.readTextFile("/a.txt")) === "durable");
   * ```
   */
  async sync(): Promise<void> {
    this.#check();
    await this.#content.commit(true);
  }

  /**
   * Same as `sync`: data and metadata commit together.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await using f = await vol.open("/a.txt", "w");
   * await f.write(new TextEncoder().encode("x"));
   * await f.syncData();
   * assert((await vol.stat("/a.txt")).size === 1);
   * ```
   */
  async syncData(): Promise<void> {
    await this.sync();
  }

  /**
   * Commits uncommitted writes without forcing them to disk.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await using f = await vol.open("/a.txt", "w");
   * await f.write(new TextEncoder().encode("x"));
   * assert((await f.flush()) === 1); // the version committed
   * ```
   *
   * With `ifWritten`, a file that was only truncated since its last commit
   * (opened with `truncate`, nothing written yet) commits nothing: the
   * truncation and the writes after it become one version when they are
   * flushed, synced or closed. The kernel mount flushes on every close(2),
   * and a shell's `echo b > f` closes a duplicate before it writes.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a.txt", "a");
   * {
   *   await using f = await vol.open("/a.txt", { write: true, truncate: true });
   *   assert((await f.flush({ ifWritten: true })) === null);
   *   await f.write(new TextEncoder().encode("b"));
   * }
   * assert((await vol.versions("/a.txt")).length === 2); // "a", then "b"
   * ```
   */
  async flush(options: { ifWritten?: boolean } = {}): Promise<number | null> {
    this.#check();
    if (options.ifWritten && !this.#content.wrote) return null;
    return await this.#content.commit(false);
  }

  /**
   * Commits and closes. If the commit fails (a full volume, say), the
   * handle is closed anyway, the uncommitted writes are dropped, and the
   * file keeps its last committed version.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * const f = await vol.open("/a.txt", "w");
   * await f.write(new TextEncoder().encode("kept"));
   * await f.close();
   * assert((await vol.readTextFile("/a.txt")) === "kept");
   * ```
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      if (this.#mode.write) await this.#content.commit(false);
    } finally {
      await this.#let();
    }
  }

  /**
   * Closes without committing: this file's uncommitted writes are dropped.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a.txt", "old");
   * const f = await vol.open("/a.txt", "w");
   * await f.write(new TextEncoder().encode("new"));
   * await f.discard();
   * assert((await vol.readTextFile("/a.txt")) === "old");
   * ```
   */
  async discard(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#content.discard();
    } finally {
      await this.#let();
    }
  }

  async #let(): Promise<void> {
    if (--this.#content.handles === 0) await this.#content.release();
  }

  /**
   * A stream of the file from the current position; closes the handle at the end.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a.txt", "streamed");
   * const f = await vol.open("/a.txt");
   * assert((await new Response(f.readable).text()) === "streamed");
   * ```
   */
  get readable(): ReadableStream<Uint8Array> {
    this.#check("read");
    const chunk = 1 << 20;
    return new ReadableStream<Uint8Array>({
      type: "bytes",
      pull: async (controller) => {
        try {
          const data = await this.#named(this.#content.read(this.#pos, chunk));
          if (data.length === 0) {
            await this.close();
            controller.close();
            (controller as ReadableByteStreamController).byobRequest?.respond(0);
            return;
          }
          this.#pos += data.length;
          controller.enqueue(data);
        } catch (e) {
          await this.discard().catch(() => {});
          controller.error(e);
        }
      },
      cancel: async () => {
        await this.close();
      },
    });
  }

  /**
   * A stream into the file from the current position. Closing the stream
   * commits and closes the handle; aborting it drops what was written.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * const f = await vol.open("/a.txt", "w");
   * await ReadableStream.from([new TextEncoder().encode("piped")]).pipeTo(f.writable);
   * assert((await vol.readTextFile("/a.txt")) === "piped");
   * ```
   */
  get writable(): WritableStream<Uint8Array> {
    this.#check("write");
    return new WritableStream<Uint8Array>({
      write: async (chunk) => {
        await this.write(chunk);
      },
      close: async () => {
        await this.close();
      },
      abort: async () => {
        await this.discard();
      },
    });
  }

  /**
   * `await using f = await vol.open(...)` closes the handle.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * {
   *   await using f = await vol.open("/a.txt", "w");
   *   await f.write(new TextEncoder().encode("x"));
   * } // committed and closed here
   * assert((await vol.readTextFile("/a.txt")) === "x");
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
