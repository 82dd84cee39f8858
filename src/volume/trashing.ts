/**
 * A volume's trash: listing, undeleting, emptying and its settings; the
 * policy that sends what `remove` takes away there; and the trash as a
 * read-only file system (`/.trash/` over WebDAV and on the mount).
 *
 * @module
 */

import { InvalidArgument } from "../errors.ts";
import {
  expireTrash,
  findTrash,
  purgeTrash,
  rootOf,
  TrashPolicy,
  trashRows,
  trashSettings,
  undelete,
  writeTrashSettings,
} from "../trash/trash.ts";
import { Kind } from "../tree/nodes.ts";
import { Tree } from "../tree/tree.ts";
import type { TrashEntry, TrashOptions } from "../types.ts";
import type { ByNode, ExtendedAttributes, FileSystem, Trash } from "./api.ts";
import { VolumeContext } from "./context.ts";
import { VolumeSnapshots } from "./snapshotting.ts";
import { VolumeWriter } from "./writer.ts";

const DAY = 24 * 3600 * 1000;

const KIND_WORDS: Record<number, TrashEntry["kind"]> = {
  [Kind.File]: "file",
  [Kind.Dir]: "directory",
  [Kind.Symlink]: "symlink",
};

/**
 * The trash as a read-only file system: one entry per trashed file or
 * tree, named `ID-NAME`. Get it from `Volume.trashView()`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Store } from "../../mod.ts";
 * await using store = await Store.open(":memory:", { create: true });
 * const vol = await store.volume();
 * await vol.writeTextFile("/a.txt", "kept");
 * await vol.remove("/a.txt");
 * const trash = await vol.trashView();
 * const [entry] = await vol.trash();
 * assert((await trash.readTextFile(`/${entry.name}`)) === "kept" && trash.readOnly);
 * ```
 */
export class TrashView extends VolumeWriter implements FileSystem, ExtendedAttributes, ByNode {
  /** @internal Views come from `Volume.trashView`. */
  constructor(ctx: VolumeContext, root: number) {
    const tree = new Tree(
      ctx.core,
      { ...ctx.tree.vol, root, name: `${ctx.tree.vol.name}:trash` },
      ctx.tree.meta,
    );
    super(new VolumeContext(ctx.core, { tree, codec: ctx.codec, readOnly: true }));
  }
}

/**
 * The trash calls of a volume.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Store } from "../../mod.ts";
 * await using store = await Store.open(":memory:", { create: true });
 * const vol = await store.volume(); // a Volume has a trash
 * await vol.writeTextFile("/a.txt", "a");
 * await vol.remove("/a.txt");
 * assert((await vol.trash())[0].path === "/a.txt");
 * ```
 */
export abstract class VolumeTrash extends VolumeSnapshots implements Trash {
  /** @internal */
  constructor(ctx: VolumeContext) {
    super(ctx);
    if (!ctx.readOnly) ctx.tree.policy = new TrashPolicy(ctx.tree, () => ctx.core.clock.now());
  }

  /**
   * What the trash holds, oldest first.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.mkdir("/old/deep", { recursive: true });
   * await vol.writeTextFile("/old/deep/f", "12345");
   * await vol.remove("/old", { recursive: true });
   * const [e] = await vol.trash();
   * assert(e.kind === "directory" && e.size === 5 && e.path === "/old");
   * ```
   */
  trash(): Promise<TrashEntry[]> {
    return this.ctx.read((t) =>
      trashRows(t).map((r) => ({
        id: r.id,
        path: r.path,
        deleted: new Date(r.deleted),
        size: r.size,
        kind: KIND_WORDS[r.kind] ?? "special",
        name: r.entry,
      }))
    );
  }

  /**
   * Puts a trashed entry back, by its id or the path it had (the latest
   * removed there), where it was or at `to`; its parents are made again as
   * needed. `AlreadyExists` if the path is taken. Returns where it went.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a.txt", "back");
   * await vol.remove("/a.txt");
   * await vol.undelete("/a.txt");
   * assert((await vol.readTextFile("/a.txt")) === "back");
   * ```
   */
  async undelete(idOrPath: number | string, options: { to?: string } = {}): Promise<string> {
    return await this.ctx.write((t) => undelete(t, findTrash(t, idOrPath), options.to));
  }

  /**
   * Deletes what the trash holds for good (only entries removed before
   * `olderThan`, when given); returns how many went.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a.txt", "a");
   * await vol.remove("/a.txt");
   * assert((await vol.emptyTrash()) === 1 && (await vol.trash()).length === 0);
   * ```
   */
  async emptyTrash(options: { olderThan?: Date } = {}): Promise<number> {
    return await this.ctx.write((t) => {
      if (options.olderThan) return expireTrash(t, options.olderThan.getTime());
      const rows = trashRows(t);
      for (const r of rows) purgeTrash(t, r);
      return rows.length;
    });
  }

  /**
   * Changes the trash settings: on or off, days kept, size cap.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.setTrash({ enabled: false });
   * await vol.writeTextFile("/a.txt", "a");
   * await vol.remove("/a.txt");
   * assert((await vol.trash()).length === 0 && !(await vol.trashSettings()).enabled);
   * ```
   */
  async setTrash(options: TrashOptions): Promise<void> {
    const days = options.retentionDays;
    if (days !== undefined && days !== null && !(Number.isFinite(days) && days >= 0)) {
      throw new InvalidArgument(`retentionDays must be a number of days, not ${days}`);
    }
    await this.ctx.write((t) =>
      writeTrashSettings(t.db, t.vol.id, {
        enabled: options.enabled,
        keepMs: days === undefined ? undefined : days === null ? null : Math.round(days * DAY),
        maxBytes: options.maxBytes,
      })
    );
  }

  /**
   * The trash settings (the defaults, on and 30 days, until changed).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * const s = await vol.trashSettings();
   * assert(s.enabled && s.retentionDays === 30 && s.maxBytes === null);
   * ```
   */
  trashSettings(): Promise<Required<TrashOptions>> {
    return this.ctx.read((t) => {
      const s = trashSettings(t.db, t.vol.id);
      return {
        enabled: s.enabled,
        retentionDays: s.keepMs === null ? null : s.keepMs / DAY,
        maxBytes: s.maxBytes,
      };
    });
  }

  /**
   * The trash as a read-only file system (its root lists `ID-NAME` entries).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * const names = [];
   * for await (const e of (await vol.trashView()).readDir("/")) names.push(e.name);
   * assert(names.length === 0);
   * ```
   */
  async trashView(): Promise<TrashView> {
    const root = await this.ctx.read((t) => trashSettings(t.db, t.vol.id).root);
    if (root !== null || this.ctx.readOnly) return new TrashView(this.ctx, root ?? -1);
    // No trash yet: make its (empty) root, so the view has a directory to show.
    return new TrashView(this.ctx, await this.ctx.write((t) => rootOf(t).id));
  }
}
