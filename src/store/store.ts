/**
 * A store: one SQLite file holding named volumes. `Store.open` owns the
 * file; volumes, checks, garbage collection and exports go through it.
 *
 * @module
 */

import {
  check,
  type CheckOptions,
  type CheckReport,
  gc,
  type GcReport,
  reap,
} from "../check/check.ts";
import { ChunkCodec, type CodecConfig } from "../chunks/codec.ts";
import { Core, type CoreOptions, nowNs } from "../core/core.ts";
import { Db, type DbOptions } from "../db/db.ts";
import {
  AlreadyExists,
  BadKey,
  Busy,
  fromSqliteError,
  InvalidArgument,
  NotFound,
  NotSupported,
  ReadOnly,
} from "../errors.ts";
import {
  type Credential,
  DEFAULT_KDF,
  makeSlot,
  SealedMeta,
  type SlotRecord,
  type Subkeys,
  subkeys,
  unlock,
} from "../crypto/crypto.ts";
import type { MetaCodec } from "../crypto/meta.ts";
import { plainMeta } from "../crypto/meta.ts";
import { Kind } from "../db/schema.ts";
import { Tree, type VolumeRecord } from "../tree/tree.ts";
import type {
  CreateVolumeOptions,
  KdfOptions,
  KeySlotInfo,
  VolumeOptions,
  VolumeSummary,
} from "../types.ts";
import { Users } from "./users.ts";
import { Volume } from "../volume/volume.ts";

/** Options of {@linkcode Store.open}. */
export interface StoreOptions extends CoreOptions, Omit<DbOptions, "create"> {
  /** Create the file if it does not exist (default false). */
  create?: boolean;
  /** Settings of the "default" volume a new store starts with; false for none. */
  defaultVolume?: VolumeOptions | false;
}

/** Defaults of a new volume: see the README's "Choices and measurements". */
export const VOLUME_DEFAULTS: Required<Omit<VolumeOptions, "capacity">> = {
  chunkSize: 128 << 10,
  compression: 3,
  keepVersions: 10,
};

const VOLUME_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function checkVolumeName(name: string): string {
  if (typeof name !== "string" || !VOLUME_NAME.test(name)) {
    throw new InvalidArgument(
      "a volume name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
      String(name),
    );
  }
  return name;
}

function checkVolumeOptions(o: VolumeOptions): void {
  const cs = o.chunkSize;
  if (
    cs !== undefined &&
    (!Number.isInteger(cs) || cs < 4096 || cs > 16 << 20 || (cs & (cs - 1)) !== 0)
  ) {
    throw new InvalidArgument("chunkSize must be a power of two from 4 KiB to 16 MiB");
  }
  const z = o.compression;
  if (z !== undefined && (!Number.isInteger(z) || z < 0 || z > 19)) {
    throw new InvalidArgument("compression must be a zstd level 1-19, or 0 for none");
  }
  const k = o.keepVersions;
  if (k !== undefined && (!Number.isInteger(k) || k < 1)) {
    throw new InvalidArgument("keepVersions must be at least 1");
  }
  const c = o.capacity;
  if (c !== undefined && c !== null && (!Number.isSafeInteger(c) || c < 0)) {
    throw new InvalidArgument("capacity must be a number of bytes, or null");
  }
}

interface VolumeRow {
  id: number;
  name: string;
  root: number;
  created: number;
  chunk_size: number;
  compression: number;
  keep_versions: number;
  capacity: number | null;
  stored_bytes: number;
  crypto: string | null;
}

function toRecord(r: VolumeRow): VolumeRecord {
  return {
    id: r.id,
    name: r.name,
    root: r.root,
    created: r.created,
    chunkSize: r.chunk_size,
    compression: r.compression,
    keepVersions: r.keep_versions,
    capacity: r.capacity,
    crypto: r.crypto,
  };
}

let codecSerial = 0;

/** `volumes.crypto` of an encrypted volume. */
interface CryptoConfig {
  v: 1;
  /** Random volume id (hex): HKDF salt and bound into every key slot. */
  uid: string;
  /** False: chunk ids are random, so no two chunks are ever shared. */
  dedup: boolean;
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function unhex(s: string): Uint8Array {
  return new Uint8Array(s.match(/../g)!.map((x) => parseInt(x, 16)));
}

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
    const db = Db.open(path, options);
    let core: Core | undefined;
    try {
      core = new Core(db, options);
      const store = new Store(core);
      if (!db.readOnly) {
        const fresh = db.tx(() =>
          db.run("INSERT OR IGNORE INTO meta(key, value) VALUES ('created', ?)", Date.now())
            .changes === 1
        );
        if (fresh && options.defaultVolume !== false) {
          store.#insertVolume("default", options.defaultVolume ?? {});
        }
        core.startSession();
        await core.checkpointer.start();
        try {
          reap(core, core.sessionTimeoutMs);
        } catch (e) {
          if (!(e instanceof Busy)) throw e;
        }
      }
      return store;
    } catch (e) {
      await core?.pool.close();
      await core?.checkpointer.stop().catch(() => {});
      db.close();
      throw e;
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

  #insertVolume(
    name: string,
    options: VolumeOptions,
    crypto?: { config: CryptoConfig; slot: Omit<SlotRecord, "id"> },
  ): void {
    checkVolumeName(name);
    checkVolumeOptions(options);
    const db = this.#core.db;
    db.tx(() => {
      if (db.get("SELECT 1 FROM volumes WHERE name = ?", name)) {
        throw new AlreadyExists("volume exists", name);
      }
      const now = nowNs();
      const vid = db.run(
        `INSERT INTO volumes(name, root, created, chunk_size, compression, keep_versions, capacity, crypto)
         VALUES (?, 0, ?, ?, ?, ?, ?, ?)`,
        name,
        Date.now(),
        options.chunkSize ?? VOLUME_DEFAULTS.chunkSize,
        options.compression ?? VOLUME_DEFAULTS.compression,
        options.keepVersions ?? VOLUME_DEFAULTS.keepVersions,
        options.capacity ?? null,
        crypto ? JSON.stringify(crypto.config) : null,
      ).lastId;
      const root = db.run(
        `INSERT INTO nodes(volume, kind, mode, uid, gid, nlink, atime, mtime, ctime, btime)
         VALUES (?, ${Kind.Dir}, ${0o755}, 0, 0, 2, ?, ?, ?, ?)`,
        vid,
        now,
        now,
        now,
        now,
      ).lastId;
      db.run("UPDATE volumes SET root = ? WHERE id = ?", root, vid);
      if (crypto) this.#insertSlot(vid, crypto.slot);
    });
  }

  #insertSlot(volume: number, slot: Omit<SlotRecord, "id">): number {
    return this.#core.db.run(
      "INSERT INTO key_slots(volume, kind, salt, kdf, wrapped, created) VALUES (?, ?, ?, ?, ?, ?)",
      volume,
      slot.kind,
      slot.salt,
      slot.kdf,
      slot.wrapped,
      Date.now(),
    ).lastId;
  }

  #row(name: string): VolumeRow {
    const r = this.#core.db.get<VolumeRow>("SELECT * FROM volumes WHERE name = ?", name);
    if (!r) throw new NotFound("no such volume", name);
    return r;
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
    let crypto: { config: CryptoConfig; slot: Omit<SlotRecord, "id"> } | undefined;
    let keys: Subkeys | undefined;
    if (credential) {
      const key = globalThis.crypto.getRandomValues(new Uint8Array(32));
      const uid = globalThis.crypto.getRandomValues(new Uint8Array(16));
      try {
        crypto = {
          config: { v: 1, uid: hex(uid), dedup: options.dedup !== false },
          slot: await makeSlot(credential, key, uid, options.kdf),
        };
        keys = subkeys(key, uid);
      } finally {
        key.fill(0);
      }
    }
    await this.#core.enter();
    this.#insertVolume(name, options, crypto);
    return this.#open(this.#row(name), false, keys);
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
    this.#assertOpen();
    await this.#core.enter();
    const credential = credentialOf(options);
    const cached = this.#volumes.get(name);
    if (cached && !options.readOnly && !credential) return cached;
    const r = this.#row(checkVolumeName(name));
    if (r.crypto === null) return this.#open(r, !!options.readOnly);
    if (!credential) {
      throw new BadKey("the volume is encrypted: give its passphrase or key file", name);
    }
    const uid = unhex(this.#cryptoConfig(r).uid);
    const { key } = await unlock(credential, this.#slots(r.id), uid);
    const keys = subkeys(key, uid);
    key.fill(0);
    return this.#open(r, !!options.readOnly, keys);
  }

  #cryptoConfig(r: VolumeRow): CryptoConfig {
    const config = JSON.parse(r.crypto!) as CryptoConfig;
    if (config.v !== 1) {
      throw new NotSupported(`volume encryption format ${config.v} is not supported`, r.name);
    }
    return config;
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
        noDedup: !this.#cryptoConfig(r).dedup,
      });
      meta = new SealedMeta(keys);
    } else {
      codec = this.#codecFor(record);
    }
    const vol = new Volume(this.#core, new Tree(this.#core, record, meta), codec, readOnly);
    if (!readOnly && !keys) this.#volumes.set(r.name, vol);
    return vol;
  }

  #slots(volume: number): SlotRecord[] {
    return this.#core.db.all<SlotRecord>(
      "SELECT id, kind, salt, kdf, wrapped FROM key_slots WHERE volume = ? ORDER BY id",
      volume,
    );
  }

  #codecFor(
    record: VolumeRecord,
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

  /** The key slots of an encrypted volume (no secrets). */
  async keySlots(name: string): Promise<KeySlotInfo[]> {
    this.#assertOpen();
    await this.#core.enter();
    const r = this.#encrypted(name);
    return this.#core.db.all<
      { id: number; kind: "passphrase" | "keyfile"; created: number; kdf: string | null }
    >(
      "SELECT id, kind, created, kdf FROM key_slots WHERE volume = ? ORDER BY id",
      r.id,
    ).map((s) => ({
      id: s.id,
      kind: s.kind,
      created: new Date(s.created),
      kdf: s.kdf ? { ...DEFAULT_KDF, ...JSON.parse(s.kdf) } : null,
    }));
  }

  #encrypted(name: string): VolumeRow & { uid: Uint8Array } {
    const r = this.#row(checkVolumeName(name));
    if (r.crypto === null) throw new InvalidArgument("the volume is not encrypted", name);
    return { ...r, uid: unhex(this.#cryptoConfig(r).uid) };
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
    this.#assertWritable();
    await this.#core.enter();
    const r = this.#encrypted(name);
    const { key } = await unlock(current, this.#slots(r.id), r.uid);
    try {
      const slot = await makeSlot(add, key, r.uid, kdf);
      return this.#core.db.tx(() => this.#insertSlot(r.id, slot));
    } finally {
      key.fill(0);
    }
  }

  /** Removes a key slot, after `current` unlocks; the last one is refused. */
  async removeKey(name: string, current: Credential, slotId: number): Promise<void> {
    this.#assertWritable();
    await this.#core.enter();
    const r = this.#encrypted(name);
    const { key } = await unlock(current, this.#slots(r.id), r.uid);
    key.fill(0);
    this.#core.db.tx(() => {
      const slots = this.#slots(r.id);
      if (!slots.some((s) => s.id === slotId)) throw new NotFound(`no key slot ${slotId}`, name);
      if (slots.length === 1) {
        throw new InvalidArgument(
          "refusing to remove the last key slot: the volume would be lost",
          name,
        );
      }
      this.#core.db.run("DELETE FROM key_slots WHERE id = ?", slotId);
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
    this.#assertWritable();
    await this.#core.enter();
    const r = this.#encrypted(name);
    const { key, slot: old } = await unlock(current, this.#slots(r.id), r.uid);
    try {
      const slot = await makeSlot(replacement, key, r.uid, kdf);
      return this.#core.db.tx(() => {
        const id = this.#insertSlot(r.id, slot);
        this.#core.db.run("DELETE FROM key_slots WHERE id = ?", old);
        return id;
      });
    } finally {
      key.fill(0);
    }
  }

  /** Every volume with its settings. */
  async volumes(): Promise<VolumeSummary[]> {
    this.#assertOpen();
    await this.#core.enter();
    return this.#core.db.all<VolumeRow>("SELECT * FROM volumes ORDER BY name").map((r) => ({
      name: r.name,
      id: r.id,
      created: new Date(r.created),
      chunkSize: r.chunk_size,
      compression: r.compression,
      keepVersions: r.keep_versions,
      capacity: r.capacity,
      storedBytes: r.stored_bytes,
      encrypted: r.crypto !== null,
    }));
  }

  /** Changes a volume's capacity, retention or compression of new chunks. */
  async setVolumeOptions(
    name: string,
    options: Pick<VolumeOptions, "capacity" | "keepVersions" | "compression">,
  ): Promise<void> {
    this.#assertWritable();
    checkVolumeOptions(options);
    await this.#core.enter();
    const db = this.#core.db;
    db.tx(() => {
      const r = this.#row(name);
      db.run(
        "UPDATE volumes SET capacity = ?, keep_versions = ?, compression = ? WHERE id = ?",
        options.capacity === undefined ? r.capacity : options.capacity,
        options.keepVersions ?? r.keep_versions,
        options.compression ?? r.compression,
        r.id,
      );
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
    this.#assertWritable();
    checkVolumeName(to);
    await this.#core.enter();
    const db = this.#core.db;
    db.tx(() => {
      this.#row(from);
      if (db.get("SELECT 1 FROM volumes WHERE name = ?", to)) {
        throw new AlreadyExists("volume exists", to);
      }
      db.run("UPDATE volumes SET name = ? WHERE name = ?", to, from);
    });
    this.#forget(from);
  }

  /** Deletes a volume and everything in it. */
  async removeVolume(name: string): Promise<void> {
    this.#assertWritable();
    await this.#core.enter();
    const db = this.#core.db;
    db.tx(() => {
      const r = this.#row(name);
      if (
        db.get(
          "SELECT 1 FROM opens o JOIN nodes n ON n.id = o.node WHERE n.volume = ? LIMIT 1",
          r.id,
        )
      ) {
        throw new Busy("files of the volume are open", name);
      }
      const nodes = "SELECT id FROM nodes WHERE volume = ?";
      db.run(
        `DELETE FROM extents WHERE version IN (SELECT id FROM versions WHERE node IN (${nodes}))`,
        r.id,
      );
      db.run(`DELETE FROM versions WHERE node IN (${nodes})`, r.id);
      db.run(`DELETE FROM xattrs WHERE node IN (${nodes})`, r.id);
      db.run(`DELETE FROM entries WHERE parent IN (${nodes})`, r.id);
      db.run("DELETE FROM nodes WHERE volume = ?", r.id);
      db.run("DELETE FROM chunks WHERE volume = ?", r.id);
      db.run("DELETE FROM key_slots WHERE volume = ?", r.id);
      db.run("DELETE FROM locks WHERE volume = ?", r.id);
      db.run("DELETE FROM lock_scope WHERE volume = ?", r.id);
      db.run("DELETE FROM volumes WHERE id = ?", r.id);
    });
    this.#forget(name);
  }

  /**
   * Checks every invariant of the store (see the README's format section);
   * `verify` also reads and re-hashes every chunk, `repair` fixes what can
   * be fixed without guessing.
   */
  async check(options: CheckOptions = {}): Promise<CheckReport> {
    this.#assertOpen();
    await this.#core.enter();
    // Chunks of an encrypted volume can be verified once it was unlocked here.
    const codecOf = (id: number) => {
      const r = this.#core.db.get<VolumeRow>("SELECT * FROM volumes WHERE id = ?", id);
      return r && r.crypto === null ? this.#codecFor(toRecord(r)) : this.#codecs.get(id) ?? null;
    };
    return check(this.#core, codecOf, options);
  }

  /**
   * Reaps sessions of dead processes (silent for `sessionTimeoutMs`, default
   * the store's), drops what they left half-written, and returns free space
   * to the file system.
   */
  async gc(options: { sessionTimeoutMs?: number } = {}): Promise<GcReport> {
    this.#assertWritable();
    await this.#core.enter();
    await this.#core.checkpointer.full();
    return gc(this.#core, options.sessionTimeoutMs ?? this.#core.sessionTimeoutMs);
  }

  /**
   * Moves the write-ahead log into the main file and empties it (a
   * checkpoint). Resolves to false when readers in other processes kept
   * part of the log in use; a later checkpoint finishes the job.
   */
  async checkpoint(): Promise<boolean> {
    this.#assertOpen();
    await this.#core.enter();
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
    this.#assertOpen();
    await this.#core.enter();
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
      if (!core.readOnly) core.endSession();
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
