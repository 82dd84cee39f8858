/**
 * The mount's `.snapshots` directory, the way ZFS shows `.zfs/snapshot`:
 * a read-only directory in the volume's root (left out of its listing, so
 * `cp -a`, `rsync` and `du` of the mount do not walk every snapshot, but
 * found by name) holding one directory per snapshot. Each snapshot's nodes
 * have ids of their own, in a range no live node takes, so a node id says
 * which tree serves it; {@linkcode NodeRouter} picks the node operations:
 * the live volume's, a snapshot's, or the virtual directory's own. Every
 * change inside is refused with `ReadOnly` (EROFS). `.trash` shows the
 * volume's trash the same way: its nodes are the live volume's own, so the
 * router remembers the ids met inside it and serves them read-only.
 *
 * @module
 */

import {
  type ByNode,
  type DirEntryPlus,
  type FileHandle,
  type FileInfo,
  type FileSystem,
  hasSnapshots,
  hasTrash,
  IsADirectory,
  NoAttribute,
  type NodeOperations,
  NotFound,
  ReadOnly,
  type SnapshotFileSystem,
  type Snapshots,
  type Trash,
} from "../mod.ts";

/** The name of the directory of snapshots in the volume's root. */
export const SNAPSHOTS_DIR = ".snapshots";
/** The name of the trash in the volume's root. */
export const TRASH_DIR = ".trash";
/** Its node id: above any id the store hands out. */
export const SNAPDIR_INO = Number.MAX_SAFE_INTEGER;

type View = FileSystem & ByNode;

/** Node operations whose every change is refused with `ReadOnly`. */
abstract class Frozen {
  constructor(readonly why: string, readonly where: string) {}
  #refuse = (): Promise<never> => Promise.reject(new ReadOnly(this.why, this.where));
  create = this.#refuse;
  unlink = this.#refuse;
  rmdir = this.#refuse;
  rename = this.#refuse;
  link = this.#refuse;
  setAttributes = this.#refuse;
  setXattr = this.#refuse;
  removeXattr = this.#refuse;
}

/** The virtual directory: its attributes and its entries (the snapshots). */
class SnapshotsDir extends Frozen implements NodeOperations {
  readonly rootIno = SNAPDIR_INO;
  readonly #vol: FileSystem & ByNode & Snapshots;
  readonly #router: NodeRouter;

  constructor(vol: FileSystem & ByNode & Snapshots, router: NodeRouter) {
    super("snapshots are read-only", SNAPSHOTS_DIR);
    this.#vol = vol;
    this.#router = router;
  }

  #check(ino: number): void {
    if (ino !== SNAPDIR_INO) throw new NotFound("no such node", `#${ino}`);
  }

  async stat(ino: number): Promise<FileInfo> {
    this.#check(ino);
    const root = await this.#vol.nodes.stat(this.#vol.nodes.rootIno);
    return { ...root, ino: SNAPDIR_INO, mode: 0o040555, nlink: 2, uid: 0, gid: 0 };
  }

  async lookup(dirIno: number, name: string): Promise<FileInfo> {
    this.#check(dirIno);
    const view = await this.#router.view(name);
    return await view.nodes.stat(view.nodes.rootIno);
  }

  async *readDirPlus(dirIno: number): AsyncIterableIterator<DirEntryPlus> {
    this.#check(dirIno);
    for (const s of await this.#vol.snapshots()) {
      const info = await this.lookup(dirIno, s.name);
      yield {
        name: s.name,
        isFile: false,
        isDirectory: true,
        isSymlink: false,
        ino: info.ino,
        info,
      };
    }
  }

  readLink(): Promise<string> {
    return Promise.reject(new IsADirectory("is a directory", SNAPSHOTS_DIR));
  }

  open(): Promise<FileHandle> {
    return Promise.reject(new IsADirectory("is a directory", SNAPSHOTS_DIR));
  }

  getXattr(_ino: number, name: string): Promise<Uint8Array> {
    return Promise.reject(new NoAttribute("no such attribute", name));
  }

  listXattrs(): Promise<string[]> {
    return Promise.resolve([]);
  }

  pathOf(): Promise<string> {
    return Promise.resolve(`/${SNAPSHOTS_DIR}`);
  }
}

/**
 * The live volume's node operations with every change refused: the trash's
 * nodes are the volume's own, shown read-only.
 */
class ReadOnlyNodes extends Frozen implements NodeOperations {
  readonly #inner: NodeOperations;
  readonly #seen: Set<number>;

  constructor(inner: NodeOperations, seen: Set<number>) {
    super("the trash is read-only (trove trash restore)", TRASH_DIR);
    this.#inner = inner;
    this.#seen = seen;
  }

  get rootIno(): number {
    return this.#inner.rootIno;
  }

  stat(ino: number): Promise<FileInfo> {
    return this.#inner.stat(ino);
  }

  async lookup(dirIno: number, name: string): Promise<FileInfo> {
    const info = await this.#inner.lookup(dirIno, name);
    this.#seen.add(info.ino);
    return info;
  }

  async *readDirPlus(dirIno: number): AsyncIterableIterator<DirEntryPlus> {
    for await (const e of this.#inner.readDirPlus(dirIno)) {
      this.#seen.add(e.ino);
      yield e;
    }
  }

  open(ino: number, options?: Parameters<NodeOperations["open"]>[1]): Promise<FileHandle> {
    const writes = typeof options === "string"
      ? options !== "r"
      : !!(options?.write || options?.append || options?.truncate);
    return writes
      ? Promise.reject(new ReadOnly(this.why, this.where))
      : this.#inner.open(ino, options);
  }

  readLink(ino: number): Promise<string> {
    return this.#inner.readLink(ino);
  }

  getXattr(ino: number, name: string): Promise<Uint8Array> {
    return this.#inner.getXattr(ino, name);
  }

  listXattrs(ino: number): Promise<string[]> {
    return this.#inner.listXattrs(ino);
  }

  pathOf(ino: number): Promise<string> {
    return this.#inner.pathOf(ino);
  }
}

/** Which node operations serve a node id: the live volume's, a snapshot's, `.snapshots`'. */
export class NodeRouter {
  readonly #live: View;
  /** Null when the volume has no snapshots to show (or the mount is of a subdirectory). */
  readonly dir: SnapshotsDir | null;
  readonly #views = new Map<string, SnapshotFileSystem>();
  /** Node ids met inside the trash; they are served read-only. */
  readonly #trashed = new Set<number>();
  readonly #trashNodes: ReadOnlyNodes;
  readonly #hasTrash: boolean;

  constructor(live: View, options: { snapshots: boolean }) {
    this.#live = live;
    this.dir = options.snapshots && hasSnapshots(live) ? new SnapshotsDir(live, this) : null;
    this.#hasTrash = options.snapshots && hasTrash(live);
    this.#trashNodes = new ReadOnlyNodes(live.nodes, this.#trashed);
  }

  /** The trash's root, looked up by `.trash` in the volume root; null without a trash. */
  async trashRoot(): Promise<FileInfo | null> {
    if (!this.#hasTrash) return null;
    const view = await (this.#live as View & Trash).trashView();
    const info = await view.nodes.stat(view.nodes.rootIno);
    this.#trashed.add(info.ino);
    return info;
  }

  /**
   * Snapshot `name`'s view, looked up afresh (it may have been removed, or
   * made again under the same name) and remembered with its id range.
   */
  async view(name: string): Promise<SnapshotFileSystem> {
    try {
      const view = await (this.#live as View & Snapshots).snapshot(name);
      this.#views.set(name, view);
      return view;
    } catch (e) {
      this.#views.delete(name);
      throw e;
    }
  }

  /** The node operations for node `id`. */
  of(id: number): NodeOperations {
    if (id === SNAPDIR_INO && this.dir) return this.dir;
    if (this.#trashed.has(id)) return this.#trashNodes;
    for (const view of this.#views.values()) {
      if (id >= view.idRange.lo && id <= view.idRange.hi) return view.nodes;
    }
    return this.#live.nodes;
  }

  /** True when node `id` is in a snapshot or is `.snapshots` itself. */
  frozen(id: number): boolean {
    return this.of(id) !== this.#live.nodes;
  }
}
