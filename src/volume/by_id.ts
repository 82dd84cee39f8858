/**
 * Files by their stable id. Every node carries a UUID (`stat().id`) that
 * stays with it across renames; `Volume.byId` finds the file again
 * wherever it went, and `Volume.files` is the flat, bsfs-style use: write
 * bytes and get an id back, never choosing a path.
 *
 * @module
 */

import { NotFound } from "../errors.ts";
import { checkUuid, newUuid } from "../tree/entries.ts";
import type { FileInfo, OpenMode, OpenOptions, RemoveOptions } from "../types.ts";
import type { VolumeContext } from "./context.ts";
import type { FileHandle } from "./handle.ts";

/** Where `files.write` keeps the files it names by id. */
export const FILES_DIR = "/.files";

/** What a volume offers for a file found by id: its path operations, bound to it. */
export interface PathOps {
  stat(path: string): Promise<FileInfo>;
  readFile(path: string): Promise<Uint8Array>;
  readTextFile(path: string): Promise<string>;
  writeFile(
    path: string,
    data: Uint8Array | ReadableStream<Uint8Array>,
    options?: { id?: string; createNew?: boolean },
  ): Promise<void>;
  open(path: string, options?: OpenOptions | OpenMode): Promise<FileHandle>;
  remove(path: string, options?: RemoveOptions): Promise<void>;
  mkdir(path: string, options?: { recursive?: boolean }): Promise<void>;
  exists(path: string): Promise<boolean>;
}

/** A file found by its id: where it is now, and what can be done to it. */
export interface FileById {
  /** The file id (a UUID). */
  readonly id: string;
  /** Its path when it was looked up (a hard-linked file's first one). */
  readonly path: string;
  stat(): Promise<FileInfo>;
  readFile(): Promise<Uint8Array>;
  readTextFile(): Promise<string>;
  /** Replaces the content (the id stays). */
  writeFile(data: Uint8Array | ReadableStream<Uint8Array>): Promise<void>;
  open(options?: OpenOptions | OpenMode): Promise<FileHandle>;
  /** Removes this name of the file (to the trash when the volume keeps one). */
  remove(options?: RemoveOptions): Promise<void>;
}

/** The live path of the node with id `id`; `NotFound` when no linked file has it. */
export async function pathById(ctx: VolumeContext, id: string): Promise<string> {
  const uuid = checkUuid(id);
  return await ctx.read((t) => {
    const rows = t.db.all<{ id: number }>(
      "SELECT id FROM nodes WHERE volume = ? AND uuid = ? AND nlink > 0",
      t.vol.id,
      uuid,
    );
    for (const r of rows) {
      try {
        return t.pathOf(r.id);
      } catch { /* in the trash only: not reachable from the root */ }
    }
    throw new NotFound("no file with this id", uuid);
  });
}

/** The file with id `id` (see `Volume.byId`). */
export async function byId(ctx: VolumeContext, ops: PathOps, id: string): Promise<FileById> {
  const path = await pathById(ctx, id);
  const uuid = checkUuid(id);
  // Each call finds the file again: it may have moved since.
  const here = () => pathById(ctx, uuid);
  return {
    id: uuid,
    path,
    stat: async () => ops.stat(await here()),
    readFile: async () => ops.readFile(await here()),
    readTextFile: async () => ops.readTextFile(await here()),
    writeFile: async (data) => ops.writeFile(await here(), data, { id: uuid }),
    open: async (options) => ops.open(await here(), options),
    remove: async (options) => ops.remove(await here(), options),
  };
}

/** Flat files by id, kept in {@linkcode FILES_DIR}; `Volume.files`. */
export interface FlatFiles {
  /** Stores `data` as a new file and returns its id (or stores it under `options.id`). */
  write(data: Uint8Array | string, options?: { id?: string }): Promise<string>;
  /** The content of the file with id `id` (wherever it is); `NotFound` if none. */
  read(id: string): Promise<Uint8Array>;
  /** Deletes the file with id `id`; `NotFound` if none. */
  delete(id: string): Promise<void>;
  /** True when a file has id `id`. */
  exists(id: string): Promise<boolean>;
  /** Its metadata. */
  stat(id: string): Promise<FileInfo>;
}

/** The flat-file view of a volume. */
export function flatFiles(ctx: VolumeContext, ops: PathOps): FlatFiles {
  return {
    async write(data, options = {}) {
      const id = options.id === undefined ? newUuid() : checkUuid(options.id);
      const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
      if (!(await ops.exists(FILES_DIR))) await ops.mkdir(FILES_DIR, { recursive: true });
      await ops.writeFile(`${FILES_DIR}/${id}`, bytes, { id, createNew: true });
      return id;
    },
    read: async (id) => ops.readFile(await pathById(ctx, id)),
    delete: async (id) => ops.remove(await pathById(ctx, id)),
    exists: async (id) => {
      try {
        await pathById(ctx, id);
        return true;
      } catch (e) {
        if (e instanceof NotFound) return false;
        throw e;
      }
    },
    stat: async (id) => ops.stat(await pathById(ctx, id)),
  };
}
