/**
 * Writing whole files. A small file (one chunk) commits in a single
 * transaction, its chunk encoded first; anything bigger, appended, written
 * at an offset or streamed goes through the file's content with bounded
 * memory and commits once at the end. A new file streamed in is linked
 * under its name only in that commit, so readers never see it half-written.
 *
 * @module
 */

import { hasChunk } from "../chunks/pool.ts";
import { INLINE_ENCODE_BYTES } from "../content/slots.ts";
import { MAX_FILE_SIZE, tooLarge } from "../content/limits.ts";
import { commitChunks } from "../content/versions.ts";
import { nowNs } from "../clock.ts";
import { AlreadyExists, InvalidArgument, IsADirectory, NotFound } from "../errors.ts";
import { Kind, type NodeRow } from "../tree/nodes.ts";
import { checkUuid } from "../tree/entries.ts";
import type { WriteFileOptions } from "../types.ts";
import { toNs, type VolumeContext } from "./context.ts";

/**
 * Checks `offset`, `append` and `mtime` of a write before anything
 * happens; returns the modification time to record (null: now).
 */
function checkOptions(path: string, options: WriteFileOptions): bigint | null {
  const mtime = options.mtime === undefined ? null : toNs(options.mtime);
  const at = options.offset;
  if (at === undefined) return mtime;
  if (options.append) throw new InvalidArgument("'offset' and 'append' conflict", path);
  if (!Number.isSafeInteger(at) || at < 0) {
    throw new InvalidArgument(`invalid offset ${at}`, path);
  }
  if (at > MAX_FILE_SIZE) throw tooLarge(at);
  return mtime;
}

/** Refuses writing over `node` when the options forbid it. */
function checkExisting(node: NodeRow, path: string, options: WriteFileOptions): void {
  if (options.createNew) throw new AlreadyExists("file exists", path);
  if (node.kind === Kind.Dir) throw new IsADirectory("is a directory", path);
  if (node.kind !== Kind.File) throw new InvalidArgument("not a regular file", path);
  if (options.id !== undefined && checkUuid(options.id) !== node.uuid) {
    throw new InvalidArgument("the file exists with another id", path);
  }
}

/** Writes a whole file; see `Volume.writeFile`. */
export async function writeFile(
  ctx: VolumeContext,
  path: string,
  data: Uint8Array | ReadableStream<Uint8Array>,
  options: WriteFileOptions,
): Promise<void> {
  ctx.assertWritable(path);
  options.signal?.throwIfAborted();
  const mtime = checkOptions(path, options);
  await ctx.enter();
  const small = data instanceof Uint8Array && data.length <= ctx.tree.vol.chunkSize &&
    !options.append && options.offset === undefined;
  if (small && await writeSmall(ctx, path, data, options, mtime)) return;
  await writeStreamed(ctx, path, data, options, mtime);
}

/**
 * One chunk in one transaction. Bigger chunks are encoded on a Worker first
 * (which skips compressing what the volume holds); small ones inside the
 * transaction, where a chunk already stored (found by its id) is not
 * compressed again. False when the file is open here (its shared content
 * must take the write).
 */
async function writeSmall(
  ctx: VolumeContext,
  path: string,
  data: Uint8Array,
  options: WriteFileOptions,
  mtime: bigint | null,
): Promise<boolean> {
  const { core, tree, codec } = ctx;
  const now = mtime ?? nowNs();
  const early = data.length > INLINE_ENCODE_BYTES
    ? (await core.pool.encode(codec.config, data.slice(), data.length)).enc
    : null;
  await core.checkpointer.throttle();
  return core.db.tx(() => {
    const enc = early ??
      (data.length > 0 ? codec.encode(data, (h) => hasChunk(tree.db, tree.vol.id, h)) : null);
    const r = tree.resolve(path, true);
    let node: number;
    let first = false;
    if (r.node) {
      checkExisting(r.node, path, options);
      if (core.contents.has(r.node.id)) return false;
      node = r.node.id;
    } else {
      if (!(options.create ?? true) && !options.createNew) {
        throw new NotFound("no such file", path);
      }
      if (!r.dir) throw new IsADirectory("is a directory", path);
      // The walk just found the name free in this transaction.
      node = tree.entries.create(r.dir, r.name!, {
        kind: Kind.File,
        mode: options.mode,
        id: options.id,
      }, true);
      first = true;
    }
    commitChunks(tree, node, {
      chunks: enc ? [enc] : [],
      size: data.length,
      mtime: now,
      reencode: () => codec.encode(data),
      first,
    });
    return true;
  });
}

/** The node a streamed write goes to: the existing file, or a new unlinked one. */
function target(
  ctx: VolumeContext,
  path: string,
  options: WriteFileOptions,
): { id: number; fresh: boolean } {
  const { core, tree } = ctx;
  return core.db.tx(() => {
    const r = tree.resolve(path, true);
    if (r.node) {
      checkExisting(r.node, path, options);
      return { id: r.node.id, fresh: false };
    }
    if (!(options.create ?? true) && !options.createNew) throw new NotFound("no such file", path);
    if (!r.dir) throw new IsADirectory("is a directory", path);
    const id = tree.entries.createUnlinked({ kind: Kind.File, mode: options.mode, id: options.id });
    // Marked open in the same transaction, so no check sees an orphan.
    core.session.markOpen(id);
    return { id, fresh: true };
  });
}

/** Writes through the file's content, committing once. */
async function writeStreamed(
  ctx: VolumeContext,
  path: string,
  data: Uint8Array | ReadableStream<Uint8Array>,
  options: WriteFileOptions,
  mtime: bigint | null,
): Promise<void> {
  const { core, tree } = ctx;
  const to = target(ctx, path, options);
  const content = ctx.contentFor(to.id, { isolated: !core.contents.has(to.id) });
  content.handles++;
  try {
    content.register();
    let offset = options.append ? content.size : options.offset ?? 0;
    if (!options.append && options.offset === undefined) await content.truncate(0);
    const chunkSize = tree.vol.chunkSize;
    if (data instanceof Uint8Array) {
      const step = 4 * chunkSize;
      for (let o = 0; o < data.length; o += step) {
        options.signal?.throwIfAborted();
        await content.write(offset + o, data.subarray(o, o + step));
      }
    } else {
      // Streams arrive in small pieces (network reads): gather them into
      // chunk-sized blocks, so each write fills whole slots.
      const block = new Uint8Array(chunkSize);
      let fill = 0;
      let streamed = 0;
      for await (const chunk of data) {
        options.signal?.throwIfAborted();
        streamed += chunk.length;
        for (let o = 0; o < chunk.length;) {
          const n = Math.min(block.length - fill, chunk.length - o);
          block.set(chunk.subarray(o, o + n), fill);
          fill += n;
          o += n;
          if (fill === block.length) {
            offset += await content.write(offset, block);
            fill = 0;
          }
        }
      }
      if (fill > 0) await content.write(offset, block.subarray(0, fill));
      // A stream's bytes count in the volume's statistics of the call (`vol.stats()`).
      core.statsOf(tree.vol.id).add("writeFile", 0, streamed, 0, false, true);
    }
    if (mtime !== null) content.setMtime(mtime);
    await content.commit(false, () => {
      if (!to.fresh) return;
      // Linked only now, so readers never see a half-written new file. If
      // someone created the path meanwhile, replace it as rename(2) would.
      const r = tree.resolve(path, true);
      if (!r.dir) throw new IsADirectory("is a directory", path);
      if (r.node) {
        if (options.createNew) throw new AlreadyExists("file exists", path);
        if (r.node.kind === Kind.Dir) throw new IsADirectory("is a directory", path);
        tree.entries.unlink(r.dir, r.name!);
      }
      tree.entries.attach({ dir: tree.node(r.dir.id), name: r.name! }, to.id);
    });
  } catch (e) {
    await content.discard();
    throw e;
  } finally {
    if (--content.handles === 0) await content.release();
  }
}
