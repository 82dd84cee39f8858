/**
 * The `volumes` table: names and settings of the volumes of a store, and
 * the rules for both. Creating a volume adds its row and its root
 * directory; removing one asks every room to delete its rows first.
 *
 * @module
 */

import type { Db } from "../db/db.ts";
import { AlreadyExists, InvalidArgument, NotFound, NotSupported } from "../errors.ts";
import { hex, type VolumeRecord } from "../tree/nodes.ts";
import { insertRoot } from "../tree/entries.ts";
import type { VolumeOptions, VolumeSummary } from "../types.ts";

/** Defaults of a new volume: see the README's "Choices and measurements". */
export const VOLUME_DEFAULTS: Required<Omit<VolumeOptions, "capacity">> = {
  chunkSize: 128 << 10,
  compression: 3,
  keepVersions: 10,
};

/** Names of volumes and KV stores. */
export const VOLUME_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Checks a volume name and returns it. */
export function checkVolumeName(name: string): string {
  if (typeof name !== "string" || !VOLUME_NAME.test(name)) {
    throw new InvalidArgument(
      "a volume name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
      String(name),
    );
  }
  return name;
}

/** Checks the settings a volume is created or tuned with. */
export function checkVolumeOptions(o: VolumeOptions): void {
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

/** A `volumes` row. */
export interface VolumeRow {
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

/** A row as the tree sees a volume. */
export function toRecord(r: VolumeRow): VolumeRecord {
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

/** A row as `Store.volumes()` lists it. */
export function toSummary(r: VolumeRow): VolumeSummary {
  return {
    name: r.name,
    id: r.id,
    created: new Date(r.created),
    chunkSize: r.chunk_size,
    compression: r.compression,
    keepVersions: r.keep_versions,
    capacity: r.capacity,
    storedBytes: r.stored_bytes,
    encrypted: r.crypto !== null,
  };
}

/** `volumes.crypto` of an encrypted volume. */
export interface CryptoConfig {
  v: 1;
  /** Random volume id (hex): HKDF salt and bound into every key slot. */
  uid: string;
  /** False: chunk ids are random, so no two chunks are ever shared. */
  dedup: boolean;
}

/** A new encrypted volume's settings. */
export function newCryptoConfig(uid: Uint8Array, dedup: boolean): CryptoConfig {
  return { v: 1, uid: hex(uid), dedup };
}

/** The encryption settings of an encrypted volume's row. */
export function cryptoConfig(r: VolumeRow): CryptoConfig & { uidBytes: Uint8Array } {
  const config = JSON.parse(r.crypto!) as CryptoConfig;
  if (config.v !== 1) {
    throw new NotSupported(`volume encryption format ${config.v} is not supported`, r.name);
  }
  const uidBytes = new Uint8Array(config.uid.match(/../g)!.map((x) => parseInt(x, 16)));
  return { ...config, uidBytes };
}

/** The row of volume `name`; `NotFound` if there is none. */
export function volumeRow(db: Db, name: string): VolumeRow {
  const r = db.get<VolumeRow>(
    `SELECT * FROM volumes WHERE name = ? AND id NOT IN (SELECT volume FROM snapshots)
     AND id NOT IN (SELECT volume FROM kv_stores)`,
    name,
  );
  if (!r) throw new NotFound("no such volume", name);
  return r;
}

/** The row of volume `id`, or undefined. */
export function volumeById(db: Db, id: number): VolumeRow | undefined {
  return db.get<VolumeRow>("SELECT * FROM volumes WHERE id = ?", id);
}

/** Every volume's row, by name (a snapshot's own row is no volume). */
export function volumeRows(db: Db): VolumeRow[] {
  return db.all<VolumeRow>(
    `SELECT * FROM volumes WHERE id NOT IN (SELECT volume FROM snapshots)
     AND id NOT IN (SELECT volume FROM kv_stores) ORDER BY name`,
  );
}

/** Adds a volume's row and root directory (inside a transaction); returns its id. */
export function insertVolume(
  db: Db,
  name: string,
  options: VolumeOptions & { crypto?: CryptoConfig },
): number {
  if (db.get("SELECT 1 FROM volumes WHERE name = ?", name)) {
    throw new AlreadyExists("volume exists", name);
  }
  const vid = db.run(
    `INSERT INTO volumes(name, root, created, chunk_size, compression, keep_versions, capacity, crypto)
     VALUES (?, 0, ?, ?, ?, ?, ?, ?)`,
    name,
    Date.now(),
    options.chunkSize ?? VOLUME_DEFAULTS.chunkSize,
    options.compression ?? VOLUME_DEFAULTS.compression,
    options.keepVersions ?? VOLUME_DEFAULTS.keepVersions,
    options.capacity ?? null,
    options.crypto ? JSON.stringify(options.crypto) : null,
  ).lastId;
  db.run("UPDATE volumes SET root = ? WHERE id = ?", insertRoot(db, vid), vid);
  return vid;
}

/** Changes a volume's capacity, retention or compression of new chunks. */
export function updateVolume(
  db: Db,
  r: VolumeRow,
  options: Pick<VolumeOptions, "capacity" | "keepVersions" | "compression">,
): void {
  db.run(
    "UPDATE volumes SET capacity = ?, keep_versions = ?, compression = ? WHERE id = ?",
    options.capacity === undefined ? r.capacity : options.capacity,
    options.keepVersions ?? r.keep_versions,
    options.compression ?? r.compression,
    r.id,
  );
}

/** Renames a volume (inside a transaction). */
export function renameVolumeRow(db: Db, from: string, to: string): void {
  volumeRow(db, from);
  if (db.get("SELECT 1 FROM volumes WHERE name = ?", to)) {
    throw new AlreadyExists("volume exists", to);
  }
  db.run("UPDATE volumes SET name = ? WHERE name = ?", to, from);
}

/** True when a file of volume `id` is open in some session. */
export function volumeInUse(db: Db, id: number): boolean {
  return db.get(
    "SELECT 1 FROM opens o JOIN nodes n ON n.id = o.node WHERE n.volume = ? LIMIT 1",
    id,
  ) !== undefined;
}
