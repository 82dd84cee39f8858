/**
 * Read-ahead: the chunks a sequential reader will need next are loaded and
 * decoded by the codec Workers through their own read-only connections
 * (fetching, decompressing and opening are the costly part of a read),
 * while the reading thread copies. When the Workers' queues are deep, or a
 * read needs a single chunk, the reading thread loads it itself.
 *
 * @module
 */

import type { ChunkCodec } from "../chunks/codec.ts";
import { noteAllocation } from "../chunks/memory.ts";
import { type ChunkSource, loadChunk } from "../chunks/pool.ts";
import type { Core } from "../core/core.ts";

/** Chunks decoded ahead of a sequential reader, on the codec Workers. */
export const READ_AHEAD = 32;
/** Loads queued per Worker before the reading thread loads chunks itself. */
const LOAD_DEPTH = 16;

/** The chunks one read touches and the ones to fetch ahead of it. */
export interface Wanted {
  /** Chunk ids by slot index: the read's own and those ahead. */
  ids: Map<number, number>;
  /** The read's own slots. */
  first: number;
  last: number;
}

/** Where chunks are read from, for {@linkcode fetchChunks}. */
export interface FetchTarget {
  core: Core;
  codec: ChunkCodec;
  source: ChunkSource;
}

/**
 * Hands the wanted chunks not cached yet to the Workers (or this thread),
 * then waits for those the read itself needs. Failures are left for the
 * read, which decodes the chunk again and reports.
 */
export async function fetchChunks(at: FetchTarget, want: Wanted): Promise<void> {
  const { core, codec } = at;
  const cache = core.cache;
  const mine: number[] = [];
  for (const [idx, id] of want.ids) {
    if (cache.has(id) || cache.loading.has(id)) continue;
    const lone = want.first === want.last && idx === want.first;
    // An emulated slow backend is only in this thread's path.
    if (lone || core.emulation || core.pool.saturated(LOAD_DEPTH)) {
      mine.push(id);
      continue;
    }
    // A Worker loads and decodes it through its own connection.
    const job = core.pool.load(codec.config, id).then((plain) => {
      if (!plain) return;
      noteAllocation(plain.length);
      cache.set(id, plain);
    }, () => {/* the read decodes it again and reports */}).finally(() => cache.loading.delete(id));
    cache.loading.set(id, job);
  }
  for (const id of mine) {
    try {
      loadChunk(at.source, id);
    } catch { /* the read decodes it again and reports */ }
  }
  for (let idx = want.first; idx <= want.last; idx++) {
    const id = want.ids.get(idx);
    const job = id === undefined ? undefined : cache.loading.get(id);
    if (job) await job;
  }
}
