/**
 * The volumes of an open store, and the keys of the encrypted ones: what
 * `Store` offers beyond the file itself. Creating a volume adds its row and
 * root; opening one unlocks it (a wrong credential is `BadKey`, before any
 * read); removing one asks every room to delete its rows.
 *
 * @module
 */

import { ChunkCodec, type CodecConfig } from "../chunks/codec.ts";
import type { Core } from "../core/core.ts";
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
import { BadKey, Busy, InvalidArgument, NotFound, ReadOnly } from "../errors.ts";
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
import { ROOMS } from "./rooms.ts";
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
  volumeInUse,
  type VolumeRow,
  volumeRow,
  volumeRows,
} from "./volumes.ts";

let codecSerial = 0;

/** The credential among options, or null; both at once is `InvalidArgument`. */
export function credentialOf(
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
export async function newKeys(
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
 * The volumes and keys of an open store; `Store` is one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Store } from "../../mod.ts";
 * await using store = await Store.open(":memory:", { create: true });
 * await store.createVolume("photos");
 * assert((await store.volumes()).length === 2);
 * ```
 */
export abstract class StoreVolumes {
  /** @internal The open store's shared state. */
  protected readonly core: Core;
  /** @internal Volumes opened writable and unencrypted, reused by name. */
  protected readonly opened: Map<string, Volume> = new Map();
  /** @internal Codecs by volume id (an unlocked encrypted volume's included). */
  protected readonly codecs: Map<number, ChunkCodec> = new Map();

  /** @internal */
  protected constructor(core: Core) {
    this.core = core;
  }

  /** The store file's path. */
  abstract get path(): string;

  protected assertOpen(): void {
    if (this.core.closed) throw new InvalidArgument("the store is closed");
  }

  protected assertWritable(): void {
    this.assertOpen();
    if (this.core.readOnly) throw new ReadOnly("the store is open read-only", this.path);
  }

  /** Waits for the store (a batch elsewhere), refusing a closed or read-only one. */
  protected async enter(write: boolean): Promise<void> {
    if (write) this.assertWritable();
    else this.assertOpen();
    await this.core.enter();
  }

  /**
   * Creates a volume and returns it. With a passphrase or a key file the
   * volume is encrypted: content, names, symlink targets and extended
   * attributes are sealed under a random volume key that the credential
   * wraps (see the README's security section for what still shows).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const photos = await store.createVolume("photos", { keepVersions: 3, capacity: 1 << 30 });
   * await photos.writeTextFile("/cat.jpg", "…");
   * assert((await store.volumes()).some((v) => v.name === "photos"));
   * ```
   */
  async createVolume(name: string, options: CreateVolumeOptions = {}): Promise<Volume> {
    this.assertWritable();
    checkVolumeName(name);
    checkVolumeOptions(options);
    const credential = credentialOf(options);
    if (options.dedup === false && !credential) {
      throw new InvalidArgument("turning dedup off applies to encrypted volumes");
    }
    const crypto = credential ? await newKeys(credential, options) : undefined;
    await this.enter(true);
    const db = this.core.db;
    db.tx(() => {
      const vid = insertVolume(db, name, { ...options, crypto: crypto?.config });
      if (crypto) insertSlot(db, vid, crypto.slot);
    });
    return this.open(volumeRow(db, name), false, crypto?.keys);
  }

  /**
   * Opens a volume by name (default "default"). An encrypted volume needs
   * its passphrase or key file; a wrong one fails here with `BadKey`,
   * before any read.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume(); // "default"
   * await vol.writeTextFile("/hello.txt", "hi");
   * assert((await store.volume("default")).name === "default");
   * ```
   */
  async volume(
    name = "default",
    options: { readOnly?: boolean; passphrase?: string; keyFile?: Uint8Array | string } = {},
  ): Promise<Volume> {
    await this.enter(false);
    const credential = credentialOf(options);
    const cached = this.opened.get(name);
    if (cached && !options.readOnly && !credential) return cached;
    const r = volumeRow(this.core.db, checkVolumeName(name));
    if (r.crypto === null) return this.open(r, !!options.readOnly);
    if (!credential) {
      throw new BadKey("the volume is encrypted: give its passphrase or key file", name);
    }
    return this.open(r, !!options.readOnly, await this.unlockRow(r, credential));
  }

  /** The subkeys of encrypted row `r`, unwrapped by `credential`; `BadKey` if it is wrong. */
  protected async unlockRow(r: VolumeRow, credential: Credential): Promise<Subkeys> {
    const { uidBytes } = cryptoConfig(r);
    const { key } = await unlock(credential, slotsOf(this.core.db, r.id), uidBytes);
    try {
      return subkeys(key, uidBytes);
    } finally {
      key.fill(0);
    }
  }

  /** The chunk codec and name codec of row `r`; `keys` when it is encrypted (and unlocked). */
  protected codecsOf(r: VolumeRow, keys?: Subkeys): { codec: ChunkCodec; meta: MetaCodec } {
    const record = toRecord(r);
    if (!keys) return { codec: this.codecFor(record), meta: plainMeta };
    const codec = this.codecFor(record, {
      idKey: keys.chunkId,
      sealKey: keys.chunkSeal,
      noDedup: !cryptoConfig(r).dedup,
    });
    return { codec, meta: new SealedMeta(keys) };
  }

  /** A volume object over row `r`; `keys` when it is encrypted (and unlocked). */
  protected open(r: VolumeRow, readOnly: boolean, keys?: Subkeys): Volume {
    const record = toRecord(r);
    const { codec, meta } = this.codecsOf(r, keys);
    const tree = new Tree(this.core, record, meta);
    const vol = new Volume(this.core, { tree, codec, readOnly });
    if (!readOnly && !keys) this.opened.set(r.name, vol);
    return vol;
  }

  protected codecFor(
    record: ReturnType<typeof toRecord>,
    keys?: Pick<CodecConfig, "idKey" | "sealKey" | "noDedup">,
  ): ChunkCodec {
    let codec = this.codecs.get(record.id);
    if (!codec || keys) {
      const config: CodecConfig = {
        id: `${Deno.pid}.${++codecSerial}`,
        level: record.compression,
        volumeId: record.id,
        storePath: this.core.db.path === ":memory:" ? undefined : this.core.db.path,
        ...keys,
      };
      codec = new ChunkCodec(config);
      this.codecs.set(record.id, codec);
    }
    return codec;
  }

  /**
   * The key slots of an encrypted volume (no secrets).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const kdf = { memoryKiB: 1024, iterations: 1 }; // cheap for the example; keep the default
   * await store.createVolume("vault", { passphrase: "old secret", kdf });
   * const slots = await store.keySlots("vault");
   * assert(slots.length === 1 && slots[0].kind === "passphrase");
   * ```
   */
  async keySlots(name: string): Promise<KeySlotInfo[]> {
    await this.enter(false);
    return slotInfos(this.core.db, this.#encrypted(name).id);
  }

  #encrypted(name: string): VolumeRow & { uid: Uint8Array } {
    const r = volumeRow(this.core.db, checkVolumeName(name));
    if (r.crypto === null) throw new InvalidArgument("the volume is not encrypted", name);
    return { ...r, uid: cryptoConfig(r).uidBytes };
  }

  /** The volume key of encrypted volume `name`, unwrapped by `current`, and its slot. */
  async #unlock(name: string, current: Credential) {
    const r = this.#encrypted(name);
    const opened = await unlock(current, slotsOf(this.core.db, r.id), r.uid);
    return { r, ...opened };
  }

  /**
   * Adds a key slot for `add` (a passphrase or key file), after `current`
   * unlocks the volume. Nothing is re-encrypted. Returns the new slot's id.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const kdf = { memoryKiB: 1024, iterations: 1 }; // cheap for the example; keep the default
   * await store.createVolume("vault", { passphrase: "old secret", kdf });
   * const key = crypto.getRandomValues(new Uint8Array(32));
   * await store.addKey("vault", { passphrase: "old secret" }, { keyFile: key });
   * assert((await store.volume("vault", { keyFile: key })).name === "vault");
   * ```
   */
  async addKey(
    name: string,
    current: Credential,
    add: Credential,
    kdf?: KdfOptions,
  ): Promise<number> {
    await this.enter(true);
    const { r, key } = await this.#unlock(name, current);
    try {
      const slot = await makeSlot(add, key, r.uid, kdf);
      return this.core.db.tx(() => insertSlot(this.core.db, r.id, slot));
    } finally {
      key.fill(0);
    }
  }

  /**
   * Removes a key slot, after `current` unlocks; the last one is refused.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const kdf = { memoryKiB: 1024, iterations: 1 }; // cheap for the example; keep the default
   * await store.createVolume("vault", { passphrase: "old secret", kdf });
   * const key = crypto.getRandomValues(new Uint8Array(32));
   * const slot = await store.addKey("vault", { passphrase: "old secret" }, { keyFile: key });
   * await store.removeKey("vault", { passphrase: "old secret" }, slot);
   * assert((await store.keySlots("vault")).length === 1);
   * ```
   */
  async removeKey(name: string, current: Credential, slotId: number): Promise<void> {
    await this.enter(true);
    const { r, key } = await this.#unlock(name, current);
    key.fill(0);
    const db = this.core.db;
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
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const kdf = { memoryKiB: 1024, iterations: 1 }; // cheap for the example; keep the default
   * await store.createVolume("vault", { passphrase: "old secret", kdf });
   * await store.changeKey("vault", { passphrase: "old secret" }, { passphrase: "new secret" }, kdf);
   * assert((await store.volume("vault", { passphrase: "new secret" })).name === "vault");
   * ```
   */
  async changeKey(
    name: string,
    current: Credential,
    replacement: Credential,
    kdf?: KdfOptions,
  ): Promise<number> {
    await this.enter(true);
    const { r, key, slot: old } = await this.#unlock(name, current);
    try {
      const slot = await makeSlot(replacement, key, r.uid, kdf);
      const db = this.core.db;
      return db.tx(() => {
        const id = insertSlot(db, r.id, slot);
        deleteSlot(db, old);
        return id;
      });
    } finally {
      key.fill(0);
    }
  }

  /**
   * Every volume with its settings.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const names = (await store.volumes()).map((v) => v.name);
   * assert(names.join() === "default");
   * ```
   */
  async volumes(): Promise<VolumeSummary[]> {
    await this.enter(false);
    return volumeRows(this.core.db).map(toSummary);
  }

  /**
   * Changes a volume's capacity, retention or compression of new chunks.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * await store.setVolumeOptions("default", { capacity: 10 << 20, keepVersions: 2 });
   * assert((await store.volumes())[0].capacity === 10 << 20);
   * ```
   */
  async setVolumeOptions(
    name: string,
    options: Pick<VolumeOptions, "capacity" | "keepVersions" | "compression">,
  ): Promise<void> {
    this.assertWritable();
    checkVolumeOptions(options);
    await this.enter(true);
    const core = this.core;
    core.db.tx(() => {
      const r = volumeRow(core.db, name);
      updateVolume(core.db, r, options);
      core.feed.note(r.id, Change.Settings);
    });
    this.forget(name);
  }

  protected forget(name: string): void {
    const vol = this.opened.get(name);
    if (vol) {
      this.codecs.delete(vol.id);
      this.opened.delete(name);
    }
  }

  /**
   * Renames a volume.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * await store.renameVolume("default", "main");
   * assert((await store.volume("main")).name === "main");
   * ```
   */
  async renameVolume(from: string, to: string): Promise<void> {
    checkVolumeName(to);
    await this.enter(true);
    const core = this.core;
    core.db.tx(() => {
      renameVolumeRow(core.db, from, to);
      core.feed.note(volumeRow(core.db, to).id, Change.Settings);
    });
    this.forget(from);
  }

  /**
   * Deletes a volume and everything in it: each room deletes its rows.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * await store.createVolume("scratch");
   * await store.removeVolume("scratch");
   * assert((await store.volumes()).length === 1);
   * ```
   */
  async removeVolume(name: string): Promise<void> {
    await this.enter(true);
    const db = this.core.db;
    db.tx(() => {
      const r = volumeRow(db, name);
      if (volumeInUse(db, r.id)) throw new Busy("files of the volume are open", name);
      // Rows that exist only for this volume (its snapshots) go first, the same way.
      const ids = [...ROOMS.flatMap((room) => room.dependents?.(db, r.id) ?? []), r.id];
      for (const id of ids) {
        for (const room of ROOMS) room.removeVolume?.(db, id);
        db.run("DELETE FROM volumes WHERE id = ?", id);
      }
    });
    this.forget(name);
  }
}
