/**
 * The volume: a file tree in a store, shaped like Deno's own file API, plus
 * what a vault needs — versions, trees, batches, extended attributes,
 * statistics, a change feed — and operations by node id (`vol.nodes`) for
 * the kernel mount. It implements the {@linkcode FileSystem} the front ends
 * use, with every optional capability.
 *
 * @module
 */

import type { ChunkCodec } from "../chunks/codec.ts";
import { copyVersion, listVersions, restoreVersion, setKeep } from "../content/versions.ts";
import type { Core } from "../core/core.ts";
import { AlreadyExists, InvalidArgument, IsADirectory } from "../errors.ts";
import { type ChangeRecord, readChanges } from "../feed/feed.ts";
import { Locks } from "../locks/locks.ts";
import { Kind } from "../tree/nodes.ts";
import type { Tree } from "../tree/tree.ts";
import type { VersionInfo } from "../types.ts";
import type {
  ByNode,
  ChangeSource,
  ExtendedAttributes,
  FileSystem,
  Lockable,
  Snapshots,
  Versioned,
} from "./api.ts";
import { VolumeContext } from "./context.ts";
import { byId, type FileById, type FlatFiles, flatFiles } from "./by_id.ts";
import { meter, type Stats } from "../core/stats.ts";
import { VolumeTrash } from "./trashing.ts";

const PAGE = 512;

/**
 * A file tree in a store. Get one from `Store.volume`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Store } from "../../mod.ts";
 * const path = await Deno.makeTempFile({ suffix: ".trove" });
 * await Deno.remove(path);
 * await using store = await Store.open(path, { create: true });
 * const vol = await store.volume();
 * await vol.writeTextFile("/hello.txt", "hi");
 * assert((await vol.stat("/hello.txt")).size === 2);
 * await Deno.remove(path);
 * ```
 */
export class Volume extends VolumeTrash
  implements FileSystem, Versioned, Lockable, ExtendedAttributes, ByNode, ChangeSource, Snapshots {
  /** Advisory locks on paths (WebDAV locks), kept in the store. */
  readonly locks: Locks;

  /** @internal Volumes come from `Store.volume` and `Store.createVolume`. */
  constructor(core: Core, options: { tree: Tree; codec: ChunkCodec; readOnly: boolean }) {
    super(new VolumeContext(core, options));
    const tree = options.tree;
    meter(this, core.statsOf(tree.vol.id));
    this.locks = new Locks(core, {
      volume: tree.vol.id,
      meta: tree.meta,
      assertWritable: () => this.ctx.assertWritable(),
    });
  }

  /**
   * The stored versions of a file, newest first.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/plan.md", "v1");
   * await vol.writeTextFile("/plan.md", "v2");
   * const versions = await vol.versions("/plan.md");
   * assert(versions.length === 2 && versions[0].current);
   * ```
   */
  versions(path: string): Promise<VersionInfo[]> {
    return this.ctx.read((t) => {
      const n = t.existing(path, true);
      if (n.kind !== Kind.File) throw new IsADirectory("not a regular file", path);
      return listVersions(t, n);
    });
  }

  /**
   * Makes an old version current again, as a new version (so it can be undone).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/plan.md", "v1");
   * await vol.writeTextFile("/plan.md", "v2");
   * await vol.restore("/plan.md", 1);
   * assert((await vol.readTextFile("/plan.md")) === "v1");
   * ```
   */
  async restore(path: string, version: number): Promise<number> {
    return await this.ctx.write((t) => restoreVersion(t, t.existing(path, true), version, path));
  }

  /**
   * Sets how many versions a file, or every file below a directory, keeps
   * (null: inherit). The volume's setting applies where none is set.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.mkdir("/logs");
   * await vol.setRetention("/logs", 1);
   * await vol.writeTextFile("/logs/app.log", "1");
   * await vol.writeTextFile("/logs/app.log", "2");
   * assert((await vol.versions("/logs/app.log")).length === 1);
   * ```
   */
  async setRetention(path: string, keep: number | null): Promise<void> {
    if (keep !== null && (!Number.isSafeInteger(keep) || keep < 1)) {
      throw new InvalidArgument("a file keeps at least one version");
    }
    await this.ctx.write((t) => setKeep(t, t.existing(path, true), keep));
  }

  /**
   * Every commit that changed this volume after `since` (a `seq` from an
   * earlier record; default 0: all the store keeps), oldest first. See
   * `ChangeRecord` for what each says and how long the store keeps them.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * const path = await Deno.makeTempFile({ suffix: ".trove" });
   * await Deno.remove(path);
   * await using store = await Store.open(path, { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a.txt", "a");
   * const kinds: string[] = [];
   * for await (const c of vol.changes()) kinds.push(...c.kinds);
   * assert(kinds.includes("content") && kinds.includes("names"));
   * await Deno.remove(path);
   * ```
   */
  async *changes(options: { since?: number } = {}): AsyncIterableIterator<ChangeRecord> {
    let since = options.since ?? 0;
    while (true) {
      const page = await this.ctx.read((t) => readChanges(t.db, t.vol.id, since, PAGE));
      yield* page;
      if (page.length < PAGE) return;
      since = page[page.length - 1].seq;
    }
  }

  /**
   * The path of the store file this volume lives in.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * assert((await store.volume()).storePath === ":memory:");
   * ```
   */
  get storePath(): string {
    return this.ctx.core.db.path;
  }

  /**
   * The file with stable id `id` (see `stat().id`), wherever it has moved:
   * its path now, and its operations. `NotFound` when no file has it.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/draft.md", "v1");
   * const { id } = await vol.stat("/draft.md");
   * await vol.rename("/draft.md", "/final.md");
   * const f = await vol.byId(id);
   * assert(f.path === "/final.md" && (await f.readTextFile()) === "v1");
   * ```
   */
  byId(id: string): Promise<FileById> {
    return byId(this.ctx, this, id);
  }

  /**
   * Files by id alone, as bsfs keeps them: `write` returns a new file's
   * id, `read`, `delete`, `exists` and `stat` take it. The files live in
   * `/.files/` (readable by path too); `read` and the others find any
   * file of the volume by id.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * const id = await vol.files.write("payload");
   * assert(new TextDecoder().decode(await vol.files.read(id)) === "payload");
   * await vol.files.delete(id);
   * assert(!(await vol.files.exists(id)));
   * ```
   */
  get files(): FlatFiles {
    return flatFiles(this.ctx, this);
  }

  /**
   * Operation statistics of this volume (every object of it in this
   * process): calls, time, bytes in and out per operation, since the store
   * opened or `resetStats`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a", "12345");
   * assert(vol.stats().ops.writeFile.bytesIn === 5);
   * ```
   */
  stats(): Stats {
    return this.ctx.core.statsOf(this.ctx.tree.vol.id).snapshot();
  }

  /**
   * Starts this volume's statistics again.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a", "1");
   * vol.resetStats();
   * assert(vol.stats().total.calls === 0);
   * ```
   */
  resetStats(): void {
    this.ctx.core.statsOf(this.ctx.tree.vol.id).reset();
  }

  /**
   * Makes file `path` of `other` a new file at the same path of this
   * volume sharing its chunks (no content byte copied), when both are
   * unencrypted volumes of one store with one chunk size; false when they
   * are not (copy the bytes instead). The overlay's copy-up.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const base = await store.createVolume("base");
   * await base.writeTextFile("/f", "shared");
   * const vol = await store.volume();
   * assert(await vol.shareFileFrom(base, "/f"));
   * assert((await vol.readTextFile("/f")) === "shared");
   * ```
   */
  async shareFileFrom(other: FileSystem, path: string): Promise<boolean> {
    if (!(other instanceof Volume)) return false;
    const mine = this.ctx;
    const theirs = other.ctx;
    if (mine.core !== theirs.core || mine.tree.vol.crypto !== null) return false;
    if (theirs.tree.vol.crypto !== null || theirs.tree.vol.chunkSize !== mine.tree.vol.chunkSize) {
      return false;
    }
    return await mine.write((t) => {
      const src = theirs.tree.existing(path, false);
      if (src.kind !== Kind.File) throw new IsADirectory("not a regular file", path);
      const r = t.resolve(path, false);
      if (r.node || !r.dir) throw new AlreadyExists("file exists", path);
      const id = t.entries.create(r.dir, r.name!, {
        kind: Kind.File,
        mode: src.mode,
        uid: src.uid,
        gid: src.gid,
      });
      if (src.version !== null) {
        copyVersion(t, id, { version: src.version, size: src.size, mtime: src.mtime });
      }
      return true;
    });
  }
}
