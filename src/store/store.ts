/**
 * A store: one SQLite file holding named volumes. `Store.open` owns the
 * file; volumes, keys, checks, garbage collection and exports go through
 * it. What each room keeps is the room's: the store asks the rooms
 * (`rooms.ts`) for their migrations, their invariants and what removing a
 * volume deletes.
 *
 * @module
 */

import { check, type CheckOptions, type CheckReport } from "../check/check.ts";
import { gc, type GcReport, reap } from "../check/gc.ts";
import { ChunkCodec, type CodecConfig } from "../chunks/codec.ts";
import { Core, type CoreOptions } from "../core/core.ts";
import {
  deleteSlot,
  insertSlot,
  makeSlot,
  slotInfos,
  type SlotRecord,
  slotsOf,
  type Subkeys,
  subkeys,
  unlock,
} from "../crypto/keys.ts";
import { type MetaCodec, plainMeta, SealedMeta } from "../crypto/meta.ts";
import { Db, type DbOptions } from "../db/db.ts";
import {
  AlreadyExists,
  BadKey,
  Busy,
  fromSqliteError,
  InvalidArgument,
  NotFound,
  ReadOnly,
} from "../errors.ts";
import { Change } from "../feed/feed.ts";
import { Tree } from "../tree/tree.ts";
import type {
  CreateVolumeOptions,
  Credential,
  KdfOptions,
  KeySlotInfo,
  VolumeOptions,
  VolumeSummary,
} from "../types.ts";
import { Volume } from "../volume/volume.ts";
import { MIGRATIONS, ROOMS } from "./rooms.ts";
import { Users } from "./users.ts";
import {
  checkVolumeName,
  checkVolumeOptions,
  type CryptoConfig,
  cryptoConfig,
  insertVolume,
  newCryptoConfig,
  renameVolumeRow,
  toRecord,
  toSummary,
  updateVolume,
  volumeById,
  volumeInUse,
  type VolumeRow,
  volumeRow,
  volumeRows,
} from "./volumes.ts";

export { VOLUME_DEFAULTS } from "./volumes.ts";

/** Options of {@linkcode Store.open}. */
export interface StoreOptions extends CoreOptions, Omit<DbOptions, "create" | "migrations"> {
  /** Create the file if it does not exist (default false). */
  create?: boolean;
  /** Settings of the "default" volume a new store starts with; false for none. */
  defaultVolume?: VolumeOptions | false;
}

let codecSerial = 0;

function credentialOf(
  o: { passphrase?: string; keyFile?: Uint8Array | string },
): Credential | null {
  if (o.passphrase !== undefined && o.keyFile !== undefined) {
    throw new InvalidArgument("give a passphrase or a key file, not both");
  }
  if (o.passphrase !== undefined) return { passphrase: o.passphrase };
  if (o.keyFile !== undefined) return { keyFile: o.keyFile };
  return null;
}

/** A new encrypted volume's key material: its settings, first slot and subkeys. */
async function newKeys(
  credential: Credential,
  options: CreateVolumeOptions,
): Promise<{ config: CryptoConfig; slot: Omit<SlotRecord, "id">; keys: Subkeys }> {
  const key = globalThis.crypto.getRandomValues(new Uint8Array(32));
  const uid = globalThis.crypto.getRandomValues(new Uint8Array(16));
  try {
    return {
      config: newCryptoConfig(uid, options.dedup !== false),
      slot: await makeSlot(credential, key, uid, options.kdf),
      keys: subkeys(key, uid),
    };
  } finally {
    key.fill(0);
  }
}

/**
 * An open store file.
 *
 * @example Open (or create) a store and write a file
 * ```ts
 * import { Store } from "../../mod.ts";
 * const path = await Deno.makeTempFile({ suffix: ".trove" });
 * await Deno.remove(path);
 * await using store = await Store.open(path, { create: true });
 * const vol = await store.volume();
 * await vol.mkdir("/notes", { recursive: true });
 * await vol.writeTextFile("/notes/today.txt", "hello");
 * console.assert((await vol.readTextFile("/notes/today.txt")) === "hello");
 * await Deno.remove(path);
 * ```
 */
export class Store implements AsyncDisposable {
  readonly #core: Core;
  readonly #volumes = new Map<string, Volume>();
  readonly #codecs = new Map<number, ChunkCodec>();
  #closing?: Promise<void>;
  /** Users of the front ends that authenticate (the WebDAV server). */
  readonly users: Users;

  private constructor(core: Core) {
    this.#core = core;
    this.users = new Users(core);
  }

  /**
   * Opens a store file. With `create`, a missing file becomes a new store
   * with one volume, "default". A file that is not a Trove store, or one
   * written by a newer Trove, is refused and left untouched.
   */
  static async open(path: string, options: StoreOptions = {}): Promise<Store> {
    const db = Db.open(path, { ...options, migrations: MIGRATIONS });
    let core: Core | undefined;
    try {
      core = new Core(db, options);
      const store = new Store(core);
      if (!db.readOnly) await store.#begin(options);
      return store;
    } catch (e) {
      await core?.pool.close();
      await core?.checkpointer.stop().catch(() => {});
      db.close();
      throw e;
    }
  }

  /** A writable open: the default volume of a new store, the session, dead sessions reaped. */
  async #begin(options: StoreOptions): Promise<void> {
    const core = this.#core;
    const db = core.db;
    const fresh = db.tx(() =>
      db.run("INSERT OR IGNORE INTO meta(key, value) VALUES ('created', ?)", Date.now())
        .changes === 1
    );
    if (fresh && options.defaultVolume !== false) {
      const settings = options.defaultVolume ?? {};
      checkVolumeOptions(settings);
      db.tx(() => insertVolume(db, "default", settings));
    }
    core.session.start(core.sessionTimeoutMs);
    await core.checkpointer.start();
    try {
      reap(core, core.sessionTimeoutMs);
    } catch (e) {
      if (!(e instanceof Busy)) throw e;
    }
  }

  /** The store file's path. */
  get path(): string {
    return this.#core.db.path;
  }

  /** True when the store was opened read-only. */
  get readOnly(): boolean {
    return this.#core.readOnly;
  }

  #assertOpen(): void {
    if (this.#core.closed) throw new InvalidArgument("the store is closed");
  }

  #assertWritable(): void {
    this.#assertOpen();
    if (this.#core.readOnly) throw new ReadOnly("the store is open read-only", this.path);
  }

  /** Waits for the store (a batch elsewhere), refusing a closed or read-only one. */
  async #enter(write: boolean): Promise<void> {
    if (write) this.#assertWritable();
    else this.#assertOpen();
    await this.#core.enter();
  }

  /**
   * Creates a volume and returns it. With a passphrase or a key file the
   * volume is encrypted: content, names, symlink targets and extended
   * attributes are sealed under a random volume key that the credential
   * wraps (see the README's security section for what still shows).
   */
  async createVolume(name: string, options: CreateVolumeOptions = {}): Promise<Volume> {
    this.#assertWritable();
    checkVolumeName(name);
    checkVolumeOptions(options);
    const credential = credentialOf(options);
    if (options.dedup === false && !credential) {
      throw new InvalidArgument("turning dedup off applies to encrypted volumes");
    }
    const crypto = credential ? await newKeys(credential, options) : undefined;
    await this.#enter(true);
    const db = this.#core.db;
    db.tx(() => {
      const vid = insertVolume(db, name, { ...options, crypto: crypto?.config });
      if (crypto) insertSlot(db, vid, crypto.slot);
    });
    return this.#open(volumeRow(db, name), false, crypto?.keys);
  }

  /**
   * Opens a volume by name (default "default"). An encrypted volume needs
   * its passphrase or key file; a wrong one fails here with `BadKey`,
   * before any read.
   */
  async volume(
    name = "default",
    options: { readOnly?: boolean; passphrase?: string; keyFile?: Uint8Array | string } = {},
  ): Promise<Volume> {
    await this.#enter(false);
    const credential = credentialOf(options);
    const cached = this.#volumes.get(name);
    if (cached && !options.readOnly && !credential) return cached;
    const r = volumeRow(this.#core.db, checkVolumeName(name));
    if (r.crypto === null) return this.#open(r, !!options.readOnly);
    if (!credential) {
      throw new BadKey("the volume is encrypted: give its passphrase or key file", name);
    }
    const { uidBytes } = cryptoConfig(r);
    const { key } = await unlock(credential, slotsOf(this.#core.db, r.id), uidBytes);
    const keys = subkeys(key, uidBytes);
    key.fill(0);
    return this.#open(r, !!options.readOnly, keys);
  }

  /** A volume object over row `r`; `keys` when it is encrypted (and unlocked). */
  #open(r: VolumeRow, readOnly: boolean, keys?: Subkeys): Volume {
    const record = toRecord(r);
    let codec: ChunkCodec;
    let meta: MetaCodec = plainMeta;
    if (keys) {
      codec = this.#codecFor(record, {
        idKey: keys.chunkId,
        sealKey: keys.chunkSeal,
        noDedup: !cryptoConfig(r).dedup,
      });
      meta = new SealedMeta(keys);
    } else {
      codec = this.#codecFor(record);
    }
    const tree = new Tree(this.#core, record, meta);
    const vol = new Volume(this.#core, { tree, codec, readOnly });
    if (!readOnly && !keys) this.#volumes.set(r.name, vol);
    return vol;
  }

  #codecFor(
    record: ReturnType<typeof toRecord>,
    keys?: Pick<CodecConfig, "idKey" | "sealKey" | "noDedup">,
  ): ChunkCodec {
    let codec = this.#codecs.get(record.id);
    if (!codec || keys) {
      const config: CodecConfig = {
        id: `${Deno.pid}.${++codecSerial}`,
        level: record.compression,
        volumeId: record.id,
        storePath: this.#core.db.path === ":memory:" ? undefined : this.#core.db.path,
        ...keys,
      };
      codec = new ChunkCodec(config);
      this.#codecs.set(record.id, codec);
    }
    return codec;
  }

  // ---- keys -------------------------------------------------------------

  /** The key slots of an encrypted volume (no secrets). */
  async keySlots(name: string): Promise<KeySlotInfo[]> {
    await this.#enter(false);
    return slotInfos(this.#core.db, this.#encrypted(name).id);
  }

  #encrypted(name: string): VolumeRow & { uid: Uint8Array } {
    const r = volumeRow(this.#core.db, checkVolumeName(name));
    if (r.crypto === null) throw new InvalidArgument("the volume is not encrypted", name);
    return { ...r, uid: cryptoConfig(r).uidBytes };
  }

  /** The volume key of encrypted volume `name`, unwrapped by `current`, and its slot. */
  async #unlock(name: string, current: Credential) {
    const r = this.#encrypted(name);
    const opened = await unlock(current, slotsOf(this.#core.db, r.id), r.uid);
    return { r, ...opened };
  }

  /**
   * Adds a key slot for `add` (a passphrase or key file), after `current`
   * unlocks the volume. Nothing is re-encrypted. Returns the new slot's id.
   */
  async addKey(
    name: string,
    current: Credential,
    add: Credential,
    kdf?: KdfOptions,
  ): Promise<number> {
    await this.#enter(true);
    const { r, key } = await this.#unlock(name, current);
    try {
      const slot = await makeSlot(add, key, r.uid, kdf);
      return this.#core.db.tx(() => insertSlot(this.#core.db, r.id, slot));
    } finally {
      key.fill(0);
    }
  }

  /** Removes a key slot, after `current` unlocks; the last one is refused. */
  async removeKey(name: string, current: Credential, slotId: number): Promise<void> {
    await this.#enter(true);
    const { r, key } = await this.#unlock(name, current);
    key.fill(0);
    const db = this.#core.db;
    db.tx(() => {
      const slots = slotsOf(db, r.id);
      if (!slots.some((s) => s.id === slotId)) throw new NotFound(`no key slot ${slotId}`, name);
      if (slots.length === 1) {
        throw new InvalidArgument(
          "refusing to remove the last key slot: the volume would be lost",
          name,
        );
      }
      deleteSlot(db, slotId);
    });
  }

  /**
   * Replaces the slot `current` opens with one for `replacement` (a new
   * passphrase or key file), in one transaction. Returns the new slot's id.
   */
  async changeKey(
    name: string,
    current: Credential,
    replacement: Credential,
    kdf?: KdfOptions,
  ): Promise<number> {
    await this.#enter(true);
    const { r, key, slot: old } = await this.#unlock(name, current);
    try {
      const slot = await makeSlot(replacement, key, r.uid, kdf);
      const db = this.#core.db;
      return db.tx(() => {
        const id = insertSlot(db, r.id, slot);
        deleteSlot(db, old);
        return id;
      });
    } finally {
      key.fill(0);
    }
  }

  // ---- volumes ----------------------------------------------------------

  /** Every volume with its settings. */
  async volumes(): Promise<VolumeSummary[]> {
    await this.#enter(false);
    return volumeRows(this.#core.db).map(toSummary);
  }

  /** Changes a volume's capacity, retention or compression of new chunks. */
  async setVolumeOptions(
    name: string,
    options: Pick<VolumeOptions, "capacity" | "keepVersions" | "compression">,
  ): Promise<void> {
    this.#assertWritable();
    checkVolumeOptions(options);
    await this.#enter(true);
    const core = this.#core;
    core.db.tx(() => {
      const r = volumeRow(core.db, name);
      updateVolume(core.db, r, options);
      core.feed.note(r.id, Change.Settings);
    });
    this.#forget(name);
  }

  #forget(name: string): void {
    const vol = this.#volumes.get(name);
    if (vol) {
      this.#codecs.delete(vol.id);
      this.#volumes.delete(name);
    }
  }

  /** Renames a volume. */
  async renameVolume(from: string, to: string): Promise<void> {
    checkVolumeName(to);
    await this.#enter(true);
    const core = this.#core;
    core.db.tx(() => {
      renameVolumeRow(core.db, from, to);
      core.feed.note(volumeRow(core.db, to).id, Change.Settings);
    });
    this.#forget(from);
  }

  /** Deletes a volume and everything in it: each room deletes its rows. */
  async removeVolume(name: string): Promise<void> {
    await this.#enter(true);
    const db = this.#core.db;
    db.tx(() => {
      const r = volumeRow(db, name);
      if (volumeInUse(db, r.id)) throw new Busy("files of the volume are open", name);
      for (const room of ROOMS) room.removeVolume?.(db, r.id);
      db.run("DELETE FROM volumes WHERE id = ?", r.id);
    });
    this.#forget(name);
  }

  // ---- the whole store --------------------------------------------------

  /**
   * Checks every invariant of the store (see the README's format section);
   * `verify` also reads and re-hashes every chunk, `repair` fixes what can
   * be fixed without guessing.
   */
  async check(options: CheckOptions = {}): Promise<CheckReport> {
    await this.#enter(false);
    const db = this.#core.db;
    // Chunks of an encrypted volume can be verified once it was unlocked here.
    const codecOf = (id: number) => {
      const r = volumeById(db, id);
      return r && r.crypto === null ? this.#codecFor(toRecord(r)) : this.#codecs.get(id) ?? null;
    };
    const nameOf = (node: number) => {
      const vid = db.get<{ volume: number }>("SELECT volume FROM nodes WHERE id = ?", node);
      const r = vid && volumeById(db, vid.volume);
      if (!r || r.crypto !== null) return null;
      try {
        return new Tree(this.#core, toRecord(r), plainMeta).pathOf(node);
      } catch {
        return null;
      }
    };
    return check(this.#core, { rooms: ROOMS, codecOf, nameOf }, options);
  }

  /**
   * Reaps sessions of dead processes (silent for `sessionTimeoutMs`, default
   * the store's), drops what they left half-written, and returns free space
   * to the file system.
   */
  async gc(options: { sessionTimeoutMs?: number } = {}): Promise<GcReport> {
    await this.#enter(true);
    await this.#core.checkpointer.full();
    return gc(this.#core, options.sessionTimeoutMs ?? this.#core.sessionTimeoutMs);
  }

  /**
   * Moves the write-ahead log into the main file and empties it (a
   * checkpoint). Resolves to false when readers in other processes kept
   * part of the log in use; a later checkpoint finishes the job.
   */
  async checkpoint(): Promise<boolean> {
    await this.#enter(false);
    return await this.#core.checkpointer.full();
  }

  /**
   * Writes a consistent, compacted copy of the live store to `dest`: written
   * beside it first and renamed into place; an existing `dest` is refused.
   */
  async export(
    dest: string,
    options: { onProgress?: (doneBytes: number, totalBytes: number) => void } = {},
  ): Promise<void> {
    await this.#enter(false);
    try {
      await Deno.lstat(dest);
      throw new AlreadyExists("destination exists", dest);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    const tmp = `${dest}.partial-${Deno.pid}-${Date.now()}`;
    try {
      await this.#core.db.backupTo(tmp, options.onProgress);
      await Deno.rename(tmp, dest);
    } catch (e) {
      for (const suffix of ["", "-wal", "-shm"]) await Deno.remove(tmp + suffix).catch(() => {});
      throw fromSqliteError(e, dest);
    }
  }

  /**
   * Commits and closes open handles, ends this process's session and closes
   * the file. Safe to call twice.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const core = this.#core;
    const errors: unknown[] = [];
    await core.enter();
    for (const c of [...core.contents.values(), ...core.isolated]) {
      await c.closeAll().catch((e) => errors.push(e));
    }
    core.closed = true;
    try {
      if (!core.readOnly) core.session.end();
    } catch (e) {
      errors.push(e);
    }
    await core.pool.close();
    await core.checkpointer.stop().catch((e) => errors.push(e));
    core.db.close();
    if (errors.length > 0) throw errors[0];
  }

  /** `await using store = await Store.open(...)` closes the store. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
