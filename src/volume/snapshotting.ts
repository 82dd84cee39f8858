/**
 * Snapshots of a volume: making, listing, reading, restoring, comparing
 * and removing them (the `Snapshots` capability), over the snapshots room.
 *
 * @module
 */

import { NotFound } from "../errors.ts";
import { diffTrees, restoreTree } from "../snapshots/restore.ts";
import {
  createSnapshot,
  dropSnapshot,
  heldOnlyBy,
  listSnapshots,
  snapshotByName,
} from "../snapshots/snapshots.ts";
import { Kind, type NodeRow } from "../tree/nodes.ts";
import type {
  RestoreReport,
  RestoreSnapshotOptions,
  SnapshotChange,
  SnapshotInfo,
  VolumeInfo,
} from "../types.ts";
import type { Snapshots } from "./api.ts";
import { SnapshotView } from "./snapshot_view.ts";
import { VolumeWriter } from "./writer.ts";

/**
 * The snapshot calls of a volume.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Store } from "../../mod.ts";
 * await using store = await Store.open(":memory:", { create: true });
 * const vol = await store.volume(); // a Volume has snapshots
 * await vol.createSnapshot("s");
 * assert((await vol.snapshots()).length === 1);
 * ```
 */
export abstract class VolumeSnapshots extends VolumeWriter implements Snapshots {
  /**
   * Freezes the whole volume as snapshot `name` (default: the time, as
   * `2026-12-01T09-30-00Z`). Costs metadata only: no content byte is
   * copied, every chunk is shared. Returns the snapshot's name.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a.txt", "a");
   * assert((await vol.createSnapshot("monday")) === "monday");
   * assert((await vol.snapshots())[0].files === 1);
   * ```
   */
  async createSnapshot(name?: string): Promise<string> {
    return await this.ctx.write((t) => {
      const now = t.core.clock.now();
      const chosen = name ??
        new Date(now).toISOString().replace(/\.\d+Z$/, "Z").replaceAll(":", "-");
      return createSnapshot(t, chosen, now).name;
    });
  }

  /**
   * The volume's snapshots, oldest first, with the bytes only each holds.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.createSnapshot("a");
   * await vol.createSnapshot("b");
   * assert((await vol.snapshots()).map((s) => s.name).join() === "a,b");
   * ```
   */
  snapshots(): Promise<SnapshotInfo[]> {
    return this.ctx.read((t) =>
      listSnapshots(t.db, t.vol.id).map((s) => ({
        name: s.name,
        created: new Date(s.created),
        files: s.files,
        bytes: heldOnlyBy(t.db, [s.volume]),
      }))
    );
  }

  /**
   * Snapshot `name` as a read-only file system (the whole read API; no
   * versions); `NotFound` if there is none.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a.txt", "kept");
   * await vol.createSnapshot("s");
   * await vol.remove("/a.txt");
   * assert((await (await vol.snapshot("s")).readTextFile("/a.txt")) === "kept");
   * ```
   */
  async snapshot(name: string): Promise<SnapshotView> {
    const s = await this.ctx.read((t) => snapshotByName(t.db, t.vol.id, name));
    return new SnapshotView(this.ctx.core, this.ctx.tree, this.ctx.codec, s);
  }

  /**
   * Brings the volume, or one file or subtree (`path`), back to snapshot
   * `name`, in one transaction. A file whose content differs gets the
   * snapshot's as a new version, so what it replaces stays as a version;
   * entries the snapshot lacks are removed.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a.txt", "good");
   * await vol.createSnapshot("s");
   * await vol.writeTextFile("/a.txt", "bad");
   * await vol.writeTextFile("/junk", "x");
   * const report = await vol.restoreSnapshot("s");
   * assert(report.restored === 1 && report.removed === 1);
   * assert((await vol.readTextFile("/a.txt")) === "good");
   * assert((await vol.versions("/a.txt")).length === 3);
   * ```
   */
  async restoreSnapshot(
    name: string,
    options: RestoreSnapshotOptions = {},
  ): Promise<RestoreReport> {
    const view = await this.snapshot(name);
    const snapTree = view.tree;
    return await this.ctx.write((t) => {
      const path = options.path ?? "/";
      const s = snapTree.resolve(path, false);
      if (!s.node) throw new NotFound("not in the snapshot", path);
      const l = t.resolve(path, false);
      if (!l.dir && s.dir) throw new NotFound("no parent directory", path);
      const remove = (dir: NodeRow, entry: string, node: NodeRow) =>
        node.kind === Kind.Dir ? t.entries.removeTree(dir, entry) : t.entries.unlink(dir, entry);
      return restoreTree(t, snapTree, {
        dir: l.dir ?? null,
        name: l.name ?? null,
        live: l.node,
        snap: s.node,
      }, remove);
    });
  }

  /**
   * Removes snapshot `name`; what only it held is freed.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.createSnapshot("old");
   * await vol.removeSnapshot("old");
   * assert((await vol.snapshots()).length === 0);
   * ```
   */
  async removeSnapshot(name: string): Promise<void> {
    await this.ctx.write((t) => dropSnapshot(t.db, snapshotByName(t.db, t.vol.id, name)));
  }

  /**
   * What changed from snapshot `from` to snapshot `to` (default: the live
   * volume), path by path in name order.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a.txt", "1");
   * await vol.createSnapshot("s");
   * await vol.writeTextFile("/b.txt", "2");
   * const changes = await vol.diffSnapshots("s");
   * assert(changes.length === 1 && changes[0].change === "+" && changes[0].path === "/b.txt");
   * ```
   */
  async diffSnapshots(from: string, to?: string): Promise<SnapshotChange[]> {
    const a = (await this.snapshot(from)).tree;
    const b = to === undefined ? this.ctx.tree : (await this.snapshot(to)).tree;
    return await this.ctx.read(() => [...diffTrees(a, b)]);
  }

  /**
   * Counts, sizes, savings and capacity, with the snapshots and the bytes
   * only they hold.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a.txt", "only in the snapshot soon");
   * await vol.createSnapshot("s");
   * await vol.remove("/a.txt", { permanent: true });
   * const info = await vol.info();
   * assert(info.snapshots === 1 && info.snapshotBytes > 0);
   * ```
   */
  override async info(): Promise<VolumeInfo> {
    const base = await super.info();
    const extra = await this.ctx.read((t) => {
      const ids = listSnapshots(t.db, t.vol.id).map((s) => s.volume);
      return { snapshots: ids.length, snapshotBytes: heldOnlyBy(t.db, ids) };
    });
    return { ...base, ...extra };
  }
}
