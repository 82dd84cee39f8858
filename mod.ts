/**
 * Trove keeps a whole filesystem in one SQLite file: deduplicated,
 * versioned, portable. Open a store, get a volume, and use it the way you
 * use Deno's own file API.
 *
 * @example Quick start
 * ```ts
 * import assert from "node:assert/strict";
 * import { Store } from "./mod.ts";
 *
 * const path = await Deno.makeTempFile({ suffix: ".trove" });
 * await Deno.remove(path);
 * await using store = await Store.open(path, { create: true });
 * const vol = await store.volume();
 * await vol.mkdir("/docs/2026", { recursive: true });
 * await vol.writeTextFile("/docs/2026/plan.md", "# Plan\n");
 * await vol.writeTextFile("/docs/2026/plan.md", "# Plan, revised\n");
 * const versions = await vol.versions("/docs/2026/plan.md");
 * assert(versions.length === 2);
 * await vol.restore("/docs/2026/plan.md", 1);
 * assert((await vol.readTextFile("/docs/2026/plan.md")) === "# Plan\n");
 * await Deno.remove(path);
 * ```
 *
 * @module
 */

export { Store, type StoreOptions, VOLUME_DEFAULTS } from "./src/store/store.ts";
export { Volume } from "./src/volume/volume.ts";
export { NodeApi } from "./src/volume/nodes.ts";
export {
  type ByNode,
  type ChangeSource,
  type ExtendedAttributes,
  type FileSystem,
  hasChanges,
  hasLocks,
  hasNodes,
  hasSnapshots,
  hasTrash,
  hasVersions,
  hasXattrs,
  type Lockable,
  type LockSystem,
  type NewNodeOptions,
  type NodeOperations,
  type SnapshotFileSystem,
  type Snapshots,
  type Trash,
  type Versioned,
} from "./src/volume/api.ts";
export { SnapshotView } from "./src/volume/snapshot_view.ts";
export { TrashView } from "./src/volume/trashing.ts";
export {
  type LayerInfo,
  type LayerSource,
  Overlay,
  type OverlayOptions,
} from "./src/overlay/mod.ts";
export { FileHandle, SeekMode } from "./src/volume/handle.ts";
export type { FileById, FlatFiles } from "./src/volume/by_id.ts";
export { MAX_FILE_SIZE } from "./src/content/limits.ts";
export { type Clock, ManualClock } from "./src/clock.ts";
export type { ChangeKind, ChangeRecord } from "./src/feed/feed.ts";
export type { ChunkBackend } from "./src/chunks/api.ts";
export { generateKey, generateKeyFile } from "./src/crypto/keys.ts";
export { type KvItemInfo, type KvRange, KvStore, type KvValue } from "./src/kv/kv.ts";
export { MAX_KEY_BYTES } from "./src/kv/keys.ts";
export { PersistentMap, type PersistentMapOptions } from "./src/kv/persistent_map.ts";
export type { KvOptions, KvSummary } from "./src/store/store_kv.ts";
export type { Emulation, OpCounters, Stats } from "./src/core/stats.ts";
export { globToRegExp } from "./src/volume/glob.ts";
export { joinPath, normalizePath } from "./src/paths.ts";
export { pack, type PackOptions, unpack, type UnpackOptions } from "./src/transfer/pack.ts";
export {
  copyAcross,
  type CopyTarget,
  type TransferOptions,
  type TransferProgress,
  treeBytes,
} from "./src/transfer/copy_across.ts";
export type { LockInfo, LockRequest, Locks } from "./src/locks/locks.ts";
export type { UserInfo, UserOptions, Users } from "./src/store/users.ts";
export type { CheckOptions, CheckProblem, CheckReport } from "./src/check/check.ts";
export type { GcReport } from "./src/check/gc.ts";
export type {
  CopyOptions,
  CreateVolumeOptions,
  Credential,
  DirEntry,
  DirEntryPlus,
  FileInfo,
  KdfOptions,
  KeySlotInfo,
  MkdirOptions,
  MknodOptions,
  OpenMode,
  OpenOptions,
  RemoveOptions,
  RenameOptions,
  RestoreReport,
  RestoreSnapshotOptions,
  SetAttributes,
  SnapshotChange,
  SnapshotInfo,
  SpecialKind,
  TrashEntry,
  TrashOptions,
  VersionInfo,
  VolumeInfo,
  VolumeOptions,
  VolumeSummary,
  WalkEntry,
  WalkOptions,
  WriteFileOptions,
  XattrOptions,
} from "./src/types.ts";
export { specialOf } from "./src/types.ts";
export {
  AlreadyExists,
  BadKey,
  Busy,
  Corrupt,
  ERROR_CLASSES,
  type ErrorClass,
  FilesystemLoop,
  FileTooLarge,
  InvalidArgument,
  IsADirectory,
  Locked,
  NameTooLong,
  NoAttribute,
  NotADirectory,
  NotEmpty,
  NotFound,
  NotSupported,
  PermissionDenied,
  QuotaExceeded,
  ReadOnly,
  rowOf,
  TooManyLinks,
  TroveError,
} from "./src/errors.ts";
