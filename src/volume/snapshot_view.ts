/**
 * A snapshot as a file system: the whole read API over the snapshot's own
 * tree (decoded with its volume's keys), every change refused with
 * `ReadOnly`, no versions and no locks. Operations by node id (`nodes`)
 * serve the kernel mount's `.snapshots` directory.
 *
 * @module
 */

import type { ChunkCodec } from "../chunks/codec.ts";
import type { Core } from "../core/core.ts";
import { snapshotVolume } from "../snapshots/snapshots.ts";
import type { SnapshotRecord } from "../snapshots/snapshots.ts";
import { Tree } from "../tree/tree.ts";
import type { SnapshotFileSystem } from "./api.ts";
import { VolumeContext } from "./context.ts";
import { VolumeWriter } from "./writer.ts";

/**
 * A read-only view of one snapshot. Get one from `Volume.snapshot(name)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReadOnly, Store } from "../../mod.ts";
 * await using store = await Store.open(":memory:", { create: true });
 * const vol = await store.volume();
 * await vol.writeTextFile("/a.txt", "then");
 * await vol.createSnapshot("before");
 * await vol.writeTextFile("/a.txt", "now");
 * const snap = await vol.snapshot("before");
 * assert((await snap.readTextFile("/a.txt")) === "then" && snap.readOnly);
 * await assert.rejects(() => snap.writeTextFile("/a.txt", "x"), ReadOnly);
 * ```
 */
export class SnapshotView extends VolumeWriter implements SnapshotFileSystem {
  /** The snapshot's name. */
  readonly snapshotName: string;
  /** When the snapshot was made. */
  readonly created: Date;
  /** Where the snapshot's node ids lie (see `SnapshotFileSystem.idRange`). */
  readonly idRange: { lo: number; hi: number };

  /** @internal Views come from `Volume.snapshot`. */
  constructor(core: Core, live: Tree, codec: ChunkCodec, s: SnapshotRecord) {
    const tree = new Tree(core, snapshotVolume(live.vol, s), live.meta);
    super(new VolumeContext(core, { tree, codec, readOnly: true }));
    this.snapshotName = s.name;
    this.created = new Date(s.created);
    this.idRange = { lo: s.lo, hi: s.hi };
  }

  /**
   * @internal The snapshot's tree, for restores and comparisons.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * const snap = await vol.snapshot(await vol.createSnapshot());
   * assert(snap.tree.root === snap.nodes.rootIno);
   * ```
   */
  get tree(): Tree {
    return this.ctx.tree;
  }
}
