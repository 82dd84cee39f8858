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
import { listVersions, restoreVersion, setKeep } from "../content/versions.ts";
import type { Core } from "../core/core.ts";
import { InvalidArgument, IsADirectory } from "../errors.ts";
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
}
