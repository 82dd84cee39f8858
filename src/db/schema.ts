/**
 * The on-disk format's history: the SQL that takes a store from one format
 * version to the next, applied forward only. `PRAGMA user_version` records
 * the version a store is at; the README's "On-disk format" section
 * documents every table and invariant.
 *
 * Versions 1–3 predate rooms and are kept here as released. Later versions
 * come from the rooms (`Room.migrations`), composed by
 * {@linkcode composeMigrations}.
 *
 * @module
 */

import type { Room } from "./rooms.ts";

/** `PRAGMA application_id` of a Trove store: "TROV" in ASCII. */
export const APPLICATION_ID = 0x54524f56;

/**
 * Migrations before rooms: `LEGACY[i]` takes a store from version `i` to
 * `i + 1`. Never edit a released entry.
 */
const LEGACY: readonly string[] = [
  // 0 → 1: the engine.
  `
  CREATE TABLE meta(
    key TEXT PRIMARY KEY,
    value ANY
  );

  CREATE TABLE volumes(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    root INTEGER NOT NULL,
    created INTEGER NOT NULL,
    chunk_size INTEGER NOT NULL,
    compression INTEGER NOT NULL,
    keep_versions INTEGER NOT NULL,
    capacity INTEGER,
    stored_bytes INTEGER NOT NULL DEFAULT 0,
    crypto TEXT
  );

  CREATE TABLE nodes(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    volume INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    mode INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    gid INTEGER NOT NULL,
    nlink INTEGER NOT NULL,
    size INTEGER NOT NULL DEFAULT 0,
    atime INTEGER NOT NULL,
    mtime INTEGER NOT NULL,
    ctime INTEGER NOT NULL,
    btime INTEGER NOT NULL,
    version INTEGER,
    target BLOB,
    keep INTEGER
  );
  CREATE INDEX nodes_keep ON nodes(volume) WHERE keep IS NOT NULL;

  CREATE TABLE entries(
    parent INTEGER NOT NULL,
    key BLOB NOT NULL,
    name BLOB,
    node INTEGER NOT NULL,
    PRIMARY KEY(parent, key)
  ) WITHOUT ROWID;
  CREATE INDEX entries_node ON entries(node);

  CREATE TABLE versions(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    node INTEGER NOT NULL,
    seq INTEGER,
    size INTEGER NOT NULL,
    mtime INTEGER NOT NULL,
    created INTEGER NOT NULL,
    chunk_size INTEGER NOT NULL,
    session INTEGER
  );
  CREATE UNIQUE INDEX versions_node ON versions(node, seq);

  CREATE TABLE extents(
    version INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    chunk INTEGER NOT NULL,
    PRIMARY KEY(version, idx)
  ) WITHOUT ROWID;

  CREATE TABLE chunks(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    volume INTEGER NOT NULL,
    hash BLOB NOT NULL,
    size INTEGER NOT NULL,
    stored INTEGER NOT NULL,
    codec INTEGER NOT NULL,
    crc INTEGER,
    refs INTEGER NOT NULL DEFAULT 0,
    data BLOB
  );
  CREATE UNIQUE INDEX chunks_hash ON chunks(volume, hash);

  CREATE TABLE chunk_data(
    id INTEGER PRIMARY KEY,
    data BLOB NOT NULL
  );

  CREATE TABLE xattrs(
    node INTEGER NOT NULL,
    key BLOB NOT NULL,
    name BLOB,
    value BLOB NOT NULL,
    PRIMARY KEY(node, key)
  ) WITHOUT ROWID;

  CREATE TABLE sessions(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pid INTEGER NOT NULL,
    started INTEGER NOT NULL,
    heartbeat INTEGER NOT NULL
  );

  CREATE TABLE opens(
    session INTEGER NOT NULL,
    node INTEGER NOT NULL,
    PRIMARY KEY(session, node)
  ) WITHOUT ROWID;
  CREATE INDEX opens_node ON opens(node);

  -- Every extent holds one reference on its chunk; a chunk whose last
  -- reference goes is deleted with its data, and the volume's stored-byte
  -- counter follows every chunk in and out.
  CREATE TRIGGER extent_in AFTER INSERT ON extents BEGIN
    UPDATE chunks SET refs = refs + 1 WHERE id = NEW.chunk;
  END;
  CREATE TRIGGER extent_out AFTER DELETE ON extents BEGIN
    UPDATE chunks SET refs = refs - 1 WHERE id = OLD.chunk;
  END;
  CREATE TRIGGER extent_swap AFTER UPDATE OF chunk ON extents BEGIN
    UPDATE chunks SET refs = refs + 1 WHERE id = NEW.chunk;
    UPDATE chunks SET refs = refs - 1 WHERE id = OLD.chunk;
  END;
  CREATE TRIGGER chunk_unreferenced AFTER UPDATE OF refs ON chunks
    WHEN NEW.refs <= 0 BEGIN
    DELETE FROM chunks WHERE id = NEW.id;
  END;
  CREATE TRIGGER chunk_in AFTER INSERT ON chunks BEGIN
    UPDATE volumes SET stored_bytes = stored_bytes + NEW.stored
      WHERE id = NEW.volume;
  END;
  CREATE TRIGGER chunk_out AFTER DELETE ON chunks BEGIN
    DELETE FROM chunk_data WHERE id = OLD.id;
    UPDATE volumes SET stored_bytes = stored_bytes - OLD.stored
      WHERE id = OLD.volume;
  END;
  `,
  // 1 → 2: key slots of encrypted volumes. A slot wraps the volume key for
  // one passphrase (Argon2id, parameters in `kdf`) or key file (HKDF).
  `
  CREATE TABLE key_slots(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    volume INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('passphrase', 'keyfile')),
    salt BLOB NOT NULL,
    kdf TEXT,
    wrapped BLOB NOT NULL,
    created INTEGER NOT NULL
  );
  CREATE INDEX key_slots_volume ON key_slots(volume);
  `,
  // 2 → 3: what the WebDAV server keeps in the store. Version digests (for
  // content-derived ETags), WebDAV locks (on paths, which need not exist),
  // and users for HTTP authentication.
  `
  ALTER TABLE versions ADD COLUMN digest BLOB;

  CREATE TABLE locks(
    token TEXT PRIMARY KEY,
    volume INTEGER NOT NULL,
    key BLOB NOT NULL,
    path BLOB NOT NULL,
    depth INTEGER NOT NULL,
    scope TEXT NOT NULL CHECK (scope IN ('exclusive', 'shared')),
    owner BLOB,
    principal TEXT,
    created INTEGER NOT NULL,
    expires INTEGER
  );
  CREATE INDEX locks_key ON locks(volume, key);
  CREATE TABLE lock_scope(
    volume INTEGER NOT NULL,
    key BLOB NOT NULL,
    token TEXT NOT NULL,
    PRIMARY KEY(volume, key, token)
  ) WITHOUT ROWID;

  CREATE TABLE users(
    name TEXT PRIMARY KEY,
    hash TEXT NOT NULL,
    read_only INTEGER NOT NULL DEFAULT 0,
    admin INTEGER NOT NULL DEFAULT 0,
    created INTEGER NOT NULL
  );
  `,
];

/**
 * Every migration in order: `result[i]` takes a store from version `i` to
 * `i + 1`. A version's SQL is each room's part of it, in the rooms' order;
 * versions must follow one another without a gap.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { composeMigrations } from "./schema.ts";
 * const all = composeMigrations([{ name: "notes", migrations: { 4: "CREATE TABLE notes(x)" } }]);
 * assert(all.length === 4 && all[3] === "CREATE TABLE notes(x)");
 * ```
 */
export function composeMigrations(rooms: readonly Room[]): string[] {
  const out = [...LEGACY];
  const byVersion = new Map<number, string[]>();
  for (const room of rooms) {
    for (const [v, sql] of Object.entries(room.migrations ?? {})) {
      const version = Number(v);
      if (!Number.isInteger(version) || version <= LEGACY.length) {
        throw new Error(`room ${room.name}: migration ${v} is not after version ${LEGACY.length}`);
      }
      byVersion.set(version, [...byVersion.get(version) ?? [], sql]);
    }
  }
  const versions = [...byVersion.keys()].sort((a, b) => a - b);
  versions.forEach((v, i) => {
    if (v !== LEGACY.length + 1 + i) throw new Error(`schema version ${v} follows a gap`);
    out.push(byVersion.get(v)!.join("\n"));
  });
  return out;
}
