/**
 * Packs and unpacks: a subtree of a volume as one self-contained file, and
 * back (the tree travels by `copyAcross`). A pack is an ordinary Trove store whose default volume holds the
 * subtree, so it opens with every tool that opens a store (`trove --store
 * x.pack ls`), deduplicates and compresses like one, and can be encrypted.
 * Only each file's current version travels; file ids (where the
 * destination has no file with the id yet), modes, owners, times,
 * symlinks, special files (FIFOs, sockets, devices), hard links and extended attributes (WebDAV dead properties
 * included) do.
 *
 * @module
 */

import { Db } from "../db/db.ts";
import { AlreadyExists, NotFound } from "../errors.ts";
import { normalizePath } from "../paths.ts";
import { Store } from "../store/store.ts";
import type { Credential, VolumeOptions } from "../types.ts";
import type { Volume } from "../volume/volume.ts";
import { copyAcross, type TransferOptions, type TransferProgress } from "./copy_across.ts";

/** Options of {@linkcode pack}. */
export interface PackOptions extends TransferOptions, VolumeOptions {
  /** Encrypt the pack under this credential. */
  encryptWith?: Credential;
}

/** Options of {@linkcode unpack}. */
export interface UnpackOptions extends TransferOptions {
  /** Unlocks an encrypted pack. */
  credential?: Credential;
}

async function refuseExisting(dest: string): Promise<void> {
  try {
    await Deno.lstat(dest);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  throw new AlreadyExists("destination exists", dest);
}

/**
 * Writes the subtree at `path` as a new pack file at `dest`: written beside
 * it and renamed into place, so `dest` appears complete or not at all; an
 * existing `dest` is refused. A directory's contents become the pack's
 * root; a single file becomes its only entry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pack, Store } from "../../mod.ts";
 * const dir = await Deno.makeTempDir();
 * await using store = await Store.open(":memory:", { create: true });
 * const vol = await store.volume();
 * await vol.mkdir("/site");
 * await vol.writeTextFile("/site/index.html", "<h1>hi</h1>");
 * const p = await pack(vol, "/site", `${dir}/site.pack`);
 * assert(p.files === 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function pack(
  vol: Volume,
  path: string,
  dest: string,
  options: PackOptions = {},
): Promise<TransferProgress> {
  await refuseExisting(dest);
  const top = await vol.lstat(path);
  const tmp = `${dest}.partial-${Deno.pid}-${Date.now()}`;
  try {
    const settings: VolumeOptions = {
      chunkSize: options.chunkSize ?? vol.chunkSize,
      compression: options.compression,
      keepVersions: options.keepVersions ?? 1,
    };
    const progress = await (async () => {
      await using store = await Store.open(tmp, { create: true, defaultVolume: false });
      const packed = await store.createVolume("default", { ...settings, ...options.encryptWith });
      const name = normalizePath(path).split("/").pop()!;
      const to = top.isDirectory ? "/" : `/${name}`;
      return await copyAcross({ fs: vol, path }, { fs: packed, path: to }, {
        ...options,
        keepIds: true,
      });
    })();
    // One self-contained file: its log folded in before it takes its name.
    Db.settle(tmp);
    await Deno.rename(tmp, dest);
    return progress;
  } catch (e) {
    for (const suffix of ["", "-wal", "-shm"]) await Deno.remove(tmp + suffix).catch(() => {});
    throw e;
  }
}

/**
 * Unpacks the pack file `src` into the volume at `path`, which must not
 * exist yet (its parent must) or be an empty directory: the pack's root
 * becomes `path`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pack, Store, unpack } from "../../mod.ts";
 * const dir = await Deno.makeTempDir();
 * await using store = await Store.open(":memory:", { create: true });
 * const vol = await store.volume();
 * await vol.mkdir("/site");
 * await vol.writeTextFile("/site/index.html", "<h1>hi</h1>");
 * await pack(vol, "/site", `${dir}/site.pack`);
 * await unpack(`${dir}/site.pack`, vol, "/restored");
 * assert((await vol.readTextFile("/restored/index.html")) === "<h1>hi</h1>");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function unpack(
  src: string,
  vol: Volume,
  path: string,
  options: UnpackOptions = {},
): Promise<TransferProgress> {
  try {
    await Deno.lstat(src);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new NotFound("no such pack", src);
    throw e;
  }
  await using store = await Store.open(src, { readOnly: true });
  const packed = await store.volume("default", { ...options.credential, readOnly: true });
  return await copyAcross({ fs: packed, path: "/" }, { fs: vol, path }, {
    ...options,
    keepIds: true,
  });
}
