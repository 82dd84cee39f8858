/**
 * The key/value stores of an open store: `Store.kv` opens one by name or
 * creates it (encrypted when given a passphrase or key file), and lists
 * them. Each is a hidden volume row of its own — its chunk pool, its
 * compression, its key slots — that `volumes()` does not show.
 *
 * @module
 */

import {
  checkVolumeOptions,
  insertVolume,
  toRecord,
  VOLUME_NAME,
  type VolumeRow,
} from "./volumes.ts";
import { type Emulation, emulationFrom, OpStats, type Stats } from "../core/stats.ts";
import { insertSlot, type Subkeys } from "../crypto/keys.ts";
import { BadKey, InvalidArgument, NotFound } from "../errors.ts";
import { KvStore } from "../kv/kv.ts";
import type { KdfOptions } from "../types.ts";
import { ROOMS } from "./rooms.ts";
import { credentialOf, newKeys, StoreVolumes } from "./store_volumes.ts";

/** Options of {@linkcode StoreKv.kv}. */
export interface KvOptions extends Emulation {
  /** Create the KV store when it does not exist (default true). */
  create?: boolean;
  /** Encrypt a new KV store (keys and values) under this passphrase, or open one. */
  passphrase?: string;
  /** Encrypt or open with a key file (32 bytes, e.g. from `generateKey()`, or a path). */
  keyFile?: Uint8Array | string;
  /** Argon2id parameters of a new passphrase slot. */
  kdf?: KdfOptions;
  /** zstd level of new chunks, 0 for none (default 3). */
  compression?: number;
  /** Bytes per chunk of a new KV store: a power of two, 4 KiB to 16 MiB (default 16 KiB). */
  chunkSize?: number;
  /** Open read-only. */
  readOnly?: boolean;
}

/** What `kvStores()` lists. */
export interface KvSummary {
  name: string;
  created: Date;
  encrypted: boolean;
  keys: number;
  /** Bytes stored after dedup and compression. */
  storedBytes: number;
  /** Its operation statistics in this process. */
  stats: Stats;
}

/** Chunk size of a new KV store: small, so a partial load decodes little. */
export const KV_CHUNK_SIZE = 16 << 10;

interface KvRow extends VolumeRow {
  kv_name: string;
  kv_created: number;
}

function kvRow(db: StoreVolumes["core"]["db"], name: string): KvRow | undefined {
  return db.get<KvRow>(
    `SELECT v.*, k.name AS kv_name, k.created AS kv_created FROM kv_stores k
     JOIN volumes v ON v.id = k.volume WHERE k.name = ?`,
    name,
  );
}

/** Key/value stores; `Store` is one. */
export abstract class StoreKv extends StoreVolumes {
  /**
   * Opens the key/value store `name`, creating it unless `create: false`.
   * Created with a passphrase or key file it is encrypted, keys and values
   * alike, and opening it again needs the same (`BadKey` otherwise).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { generateKey, Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const key = generateKey();
   * const secret = await store.kv("secrets", { keyFile: key });
   * await secret.set("config/token", "hunter2");
   * const again = await store.kv("secrets", { keyFile: key });
   * assert((await again.getText("config/token")) === "hunter2");
   * await assert.rejects(store.kv("secrets"));
   * ```
   */
  async kv(name: string, options: KvOptions = {}): Promise<KvStore> {
    if (typeof name !== "string" || !VOLUME_NAME.test(name)) {
      throw new InvalidArgument(
        "a KV store name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
        String(name),
      );
    }
    const credential = credentialOf(options);
    await this.enter(false);
    const db = this.core.db;
    let row = kvRow(db, name);
    let keys: Subkeys | undefined;
    if (!row) {
      if (options.create === false) throw new NotFound("no such KV store", name);
      this.assertWritable();
      const chunkSize = options.chunkSize ?? KV_CHUNK_SIZE;
      checkVolumeOptions({ chunkSize, compression: options.compression });
      const fresh = credential ? await newKeys(credential, {}) : undefined;
      await this.enter(true);
      db.tx(() => {
        if (kvRow(db, name)) return;
        const vid = insertVolume(db, `kv:${name}`, {
          chunkSize,
          compression: options.compression,
          crypto: fresh?.config,
        });
        if (fresh) insertSlot(db, vid, fresh.slot);
        db.run(
          "INSERT INTO kv_stores(volume, name, created) VALUES (?, ?, ?)",
          vid,
          name,
          this.core.clock.now(),
        );
      });
      row = kvRow(db, name)!;
      keys = fresh?.keys;
      if (fresh && row.crypto !== JSON.stringify(fresh.config)) keys = undefined; // lost a race
    }
    if (!keys && row.crypto !== null) {
      if (!credential) {
        throw new BadKey("the KV store is encrypted: give its passphrase or key file", name);
      }
      keys = await this.unlockRow(row, credential);
    } else if (row.crypto === null && credential) {
      throw new InvalidArgument("the KV store is not encrypted", name);
    }
    const record = toRecord(row);
    const { codec, meta } = this.codecsOf(row, keys);
    const id = row.id;
    return new KvStore({
      core: this.core,
      id,
      name,
      chunkSize: record.chunkSize,
      codec,
      meta,
      readOnly: !!options.readOnly || this.core.readOnly,
      stats: options.latencyUs !== undefined || options.bandwidthBps !== undefined
        ? new OpStats(emulationFrom(options))
        : this.core.statsOf(id),
      destroy: async () => {
        await this.enter(true);
        db.tx(() => {
          for (const room of ROOMS) room.removeVolume?.(db, id);
          db.run("DELETE FROM volumes WHERE id = ?", id);
        });
        this.codecs.delete(id);
      },
    });
  }

  /**
   * The key/value stores, by name.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * await store.kv("cache");
   * assert.deepEqual((await store.kvStores()).map((k) => k.name), ["cache"]);
   * assert((await store.volumes()).length === 1); // a KV store is no volume
   * ```
   */
  async kvStores(): Promise<KvSummary[]> {
    await this.enter(false);
    return this.core.db.all<
      {
        volume: number;
        name: string;
        created: number;
        crypto: string | null;
        keys: number;
        stored: number;
      }
    >(
      `SELECT k.volume, k.name, k.created, v.crypto, v.stored_bytes AS stored,
         (SELECT COUNT(*) FROM kv_items i WHERE i.store = k.volume AND i.deleted IS NULL
           AND i.ns != X'00') AS keys
       FROM kv_stores k JOIN volumes v ON v.id = k.volume ORDER BY k.name`,
    ).map((r) => ({
      name: r.name,
      created: new Date(r.created),
      encrypted: r.crypto !== null,
      keys: r.keys,
      storedBytes: r.stored,
      stats: this.core.statsOf(r.volume).snapshot(),
    }));
  }
}
