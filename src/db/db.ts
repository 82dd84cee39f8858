/**
 * The SQLite connection: opening and creating a store file, its pragmas,
 * forward-only migrations, cached statements and transactions. Nothing
 * above this module opens a `DatabaseSync`.
 *
 * @module
 */

import {
  backup,
  DatabaseSync,
  type SQLInputValue,
  type SQLOutputValue,
  type StatementSync,
} from "node:sqlite";
import {
  Busy,
  fromSqliteError,
  InvalidArgument,
  NotFound,
  NotSupported,
  ReadOnly,
} from "../errors.ts";
import { APPLICATION_ID } from "./schema.ts";

/** A row as `node:sqlite` returns it. */
export type Row = Record<string, SQLOutputValue>;

/** How a store file is opened. */
export interface DbOptions {
  /**
   * The format's migrations (`composeMigrations(ROOMS)`): a store at an
   * older version is migrated forward on a writable open; one at a newer
   * version is refused.
   */
  migrations: readonly string[];
  /** Open without writing anything; every write fails with `ReadOnly`. */
  readOnly?: boolean;
  /** Create the file when it does not exist. */
  create?: boolean;
  /** SQLite page size for a new file (bytes, a power of two). */
  pageSize?: number;
  /** How long to wait for another process's write lock, in ms. */
  busyTimeoutMs?: number;
}

/** Default page size: see the README's "Choices and measurements". */
const DEFAULT_PAGE_SIZE = 4096;

function fileSize(path: string): number | null {
  try {
    return Deno.statSync(path).size;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** One open SQLite connection to a store file. */
export class Db {
  readonly raw: DatabaseSync;
  readonly path: string;
  readonly readOnly: boolean;
  readonly #statements = new Map<string, StatementSync>();
  #depth = 0;
  /** What {@linkcode Db.changeStamp} last saw: other connections' commits, this one's row changes. */
  #seen = [-1, -1];
  #stamp = 0;
  /** True inside the read transaction {@linkcode Db.read} opened. */
  #reading = false;
  /** Called after every outer commit, with what `noteStored` gathered. */
  onCommit?: (storedBytes: number) => void;
  #stored = 0;
  /** Run inside every outer transaction, just before it commits. */
  readonly #beforeCommit: (() => void)[] = [];
  /** Run after every outer transaction that rolled back. */
  readonly #afterRollback: (() => void)[] = [];
  /** Run after every outer transaction that committed. */
  readonly #afterCommit: (() => void)[] = [];

  private constructor(raw: DatabaseSync, path: string, readOnly: boolean) {
    this.raw = raw;
    this.path = path;
    this.readOnly = readOnly;
  }

  /** Opens (and when asked, creates) a store file, migrating it forward. */
  static open(path: string, options: DbOptions): Db {
    const readOnly = options.readOnly ?? false;
    const size = path === ":memory:" ? 0 : fileSize(path);
    if (size === null && (readOnly || !options.create)) {
      throw new NotFound("no store at this path", path);
    }
    let raw: DatabaseSync;
    try {
      raw = new DatabaseSync(path, {
        readOnly,
        timeout: options.busyTimeoutMs ?? 10_000,
        enableForeignKeyConstraints: false,
      });
    } catch (e) {
      throw fromSqliteError(e, path);
    }
    const db = new Db(raw, path, readOnly);
    try {
      db.#prepare(size === null || size === 0, options);
    } catch (e) {
      raw.close();
      throw fromSqliteError(e, path);
    }
    return db;
  }

  /**
   * A read-only connection for a helper thread (a codec Worker) of a
   * process whose own connection already opened and migrated the file: no
   * format checks, a short busy timeout.
   */
  static openReader(path: string): Db {
    let raw: DatabaseSync;
    try {
      raw = new DatabaseSync(path, { readOnly: true, timeout: 1000 });
    } catch (e) {
      throw fromSqliteError(e, path);
    }
    return new Db(raw, path, true);
  }

  #prepare(fresh: boolean, options: DbOptions): void {
    const appId = this.value("PRAGMA application_id") as number;
    let version = this.value("PRAGMA user_version") as number;
    const migrations = options.migrations;
    const current = migrations.length;
    if (fresh && version === 0 && appId === 0) {
      if (this.readOnly) throw new NotFound("no store at this path", this.path);
      const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
      if (!(pageSize >= 512 && pageSize <= 65536 && (pageSize & (pageSize - 1)) === 0)) {
        throw new InvalidArgument(`page size ${pageSize} is not a power of two in 512..65536`);
      }
      this.raw.exec(`PRAGMA page_size = ${pageSize}`);
      this.raw.exec("PRAGMA auto_vacuum = INCREMENTAL");
      this.raw.exec("PRAGMA journal_mode = WAL");
    } else if (appId !== APPLICATION_ID) {
      throw new InvalidArgument("not a Trove store", this.path);
    }
    if (version > current) {
      throw new NotSupported(
        `store format ${version} is newer than this Trove supports (${current}); upgrade Trove`,
        this.path,
      );
    }
    if (!this.readOnly) {
      if (this.value("PRAGMA journal_mode") !== "wal") {
        this.raw.exec("PRAGMA journal_mode = WAL");
      }
      this.raw.exec("PRAGMA synchronous = NORMAL");
      // After a checkpoint resets the WAL, shrink it back to this size.
      this.raw.exec("PRAGMA journal_size_limit = 67108864");
    }
    this.raw.exec("PRAGMA temp_store = MEMORY");
    this.raw.exec("PRAGMA cache_size = -8192");
    if (version < current) {
      if (this.readOnly) {
        throw new ReadOnly(
          `store format ${version} needs upgrading to ${current}; open it writable once`,
          this.path,
        );
      }
      this.tx(() => {
        version = this.value("PRAGMA user_version") as number;
        for (; version < current; version++) {
          this.raw.exec(migrations[version]);
        }
        this.raw.exec(`PRAGMA application_id = ${APPLICATION_ID}`);
        this.raw.exec(`PRAGMA user_version = ${current}`);
      });
    }
  }

  /** A cached prepared statement. */
  q(sql: string): StatementSync {
    let s = this.#statements.get(sql);
    if (!s) {
      try {
        s = this.raw.prepare(sql);
      } catch (e) {
        throw fromSqliteError(e, this.path);
      }
      this.#statements.set(sql, s);
    }
    return s;
  }

  /** Runs a statement; returns the changes and last row id. */
  run(sql: string, ...params: SQLInputValue[]): { changes: number; lastId: number } {
    try {
      const r = this.q(sql).run(...params);
      return { changes: Number(r.changes), lastId: Number(r.lastInsertRowid) };
    } catch (e) {
      throw fromSqliteError(e, this.path);
    }
  }

  /** The first row, or undefined. */
  get<T = Row>(sql: string, ...params: SQLInputValue[]): T | undefined {
    try {
      return this.q(sql).get(...params) as T | undefined;
    } catch (e) {
      throw fromSqliteError(e, this.path);
    }
  }

  /** Every row. */
  all<T = Row>(sql: string, ...params: SQLInputValue[]): T[] {
    try {
      return this.q(sql).all(...params) as T[];
    } catch (e) {
      throw fromSqliteError(e, this.path);
    }
  }

  /** The first column of the first row. */
  value(sql: string, ...params: SQLInputValue[]): SQLOutputValue | undefined {
    const row = this.get(sql, ...params);
    return row === undefined ? undefined : Object.values(row)[0];
  }

  /** Executes SQL text without parameters. */
  exec(sql: string): void {
    try {
      this.raw.exec(sql);
    } catch (e) {
      throw fromSqliteError(e, this.path);
    }
  }

  /**
   * Registers `fn` to run inside every outer transaction just before its
   * commit (a room writing what the transaction gathered: the change feed,
   * the chunk delete queue). If it throws, the transaction rolls back.
   */
  beforeCommit(fn: () => void): void {
    this.#beforeCommit.push(fn);
  }

  /** Registers `fn` to run after every outer transaction that rolled back. */
  afterRollback(fn: () => void): void {
    this.#afterRollback.push(fn);
  }

  /** Registers `fn` to run after every outer transaction that committed. */
  afterCommit(fn: () => void): void {
    this.#afterCommit.push(fn);
  }

  #rolledBack(): void {
    this.#stamp++;
    this.#stored = 0;
    for (const fn of this.#afterRollback) fn();
  }

  /** Adds content bytes the open transaction stored (for `onCommit`). */
  noteStored(bytes: number): void {
    this.#stored += bytes;
  }

  #committed(): void {
    this.#stamp++;
    const bytes = this.#stored;
    this.#stored = 0;
    for (const fn of this.#afterCommit) fn();
    this.onCommit?.(bytes);
  }

  /**
   * A number that stays the same only while nothing in the database can
   * have changed since the last call: no other connection committed (SQLite's
   * `data_version`), this one changed no row (`total_changes()`) and ended no
   * transaction. Outside a transaction it costs two statements and a read
   * lock (~3 µs); inside a {@linkcode Db.read} it is the stamp of what that
   * read sees. -1 inside a write transaction, whose changes are not
   * committed: nothing read then may be kept.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Db } from "./db.ts";
   * const db = Db.open(":memory:", { migrations: [], create: true });
   * const a = db.changeStamp();
   * assert(db.changeStamp() === a);
   * db.exec("CREATE TABLE t(x)");
   * db.run("INSERT INTO t VALUES (1)");
   * assert(db.changeStamp() !== a);
   * db.close();
   * ```
   */
  changeStamp(): number {
    const idle = this.#depth === 0 && !this.raw.isTransaction;
    if (!idle && !(this.#depth === 1 && this.#reading)) return -1;
    // Two statements: the pragma takes the read lock, the function none
    // (~3 µs together, where one table-valued pragma query took ~4).
    const d = (this.q("PRAGMA data_version").get() as { data_version: number }).data_version;
    const c = (this.q("SELECT total_changes() AS c").get() as { c: number }).c;
    const seen = this.#seen;
    if (d !== seen[0] || c !== seen[1]) {
      seen[0] = d;
      seen[1] = c;
      this.#stamp++;
    }
    return this.#stamp;
  }

  /** True while a transaction is open on this connection. */
  get inTransaction(): boolean {
    return this.#depth > 0;
  }

  /**
   * Runs `fn` in a write transaction (`BEGIN IMMEDIATE`, so a writer waits
   * for the lock up front instead of failing on upgrade), or in a savepoint
   * when one is already open. Rolls back if `fn` throws.
   */
  tx<T>(fn: () => T): T {
    if (this.readOnly) throw new ReadOnly("the store is open read-only", this.path);
    const outer = this.#depth === 0;
    const sp = `sp${this.#depth}`;
    this.exec(outer ? "BEGIN IMMEDIATE" : `SAVEPOINT ${sp}`);
    this.#depth++;
    try {
      const result = fn();
      if (result instanceof Promise) {
        throw new TypeError("Db.tx() takes a synchronous function");
      }
      if (outer) { for (const hook of this.#beforeCommit) hook(); }
      this.exec(outer ? "COMMIT" : `RELEASE ${sp}`);
      if (outer) this.#committed();
      return result;
    } catch (e) {
      if (outer) this.#rolledBack();
      try {
        if (!outer) {
          this.raw.exec(`ROLLBACK TO ${sp}`);
          this.raw.exec(`RELEASE ${sp}`);
        } else if (this.raw.isTransaction) {
          this.raw.exec("ROLLBACK");
        }
      } catch { /* the rollback's own failure must not hide the cause */ }
      throw fromSqliteError(e, this.path);
    } finally {
      this.#depth--;
    }
  }

  /** Opens a transaction that spans awaits; see {@linkcode Db.tx}. */
  begin(): void {
    if (this.readOnly) throw new ReadOnly("the store is open read-only", this.path);
    if (this.#depth !== 0) throw new TypeError("a transaction is already open");
    this.exec("BEGIN IMMEDIATE");
    this.#depth++;
  }

  /** Ends the transaction {@linkcode Db.begin} opened. */
  end(commit: boolean): void {
    if (commit) {
      try {
        for (const hook of this.#beforeCommit) hook();
        this.#depth--;
        this.exec("COMMIT");
        this.#committed();
        return;
      } catch (e) {
        if (this.#depth > 0) this.#depth--;
        if (this.raw.isTransaction) this.raw.exec("ROLLBACK");
        this.#rolledBack();
        throw e;
      }
    }
    this.#depth--;
    if (this.raw.isTransaction) this.raw.exec("ROLLBACK");
    this.#rolledBack();
  }

  /**
   * Runs `fn` as one consistent read: inside a transaction so several
   * statements see the same snapshot, even while other processes commit.
   */
  read<T>(fn: () => T): T {
    if (this.#depth > 0 || this.raw.isTransaction) return fn();
    this.exec("BEGIN");
    this.#depth++;
    this.#reading = true;
    try {
      return fn();
    } finally {
      this.#reading = false;
      this.#depth--;
      try {
        this.raw.exec("COMMIT");
      } catch { /* a read transaction has nothing to lose */ }
    }
  }

  /**
   * Writes a consistent copy of the database to `dest` with SQLite's online
   * backup (other connections keep working meanwhile), then gives its free
   * pages back (`VACUUM` would need `ATTACH`, which Deno allows only with
   * full permissions; stores use incremental auto-vacuum instead).
   * `onProgress` gets bytes copied and bytes in all.
   */
  async backupTo(dest: string, onProgress?: (done: number, total: number) => void): Promise<void> {
    const page = Number(this.value("PRAGMA page_size"));
    await backup(this.raw, dest, {
      rate: 256,
      progress: onProgress
        ? ({ totalPages, remainingPages }) =>
          onProgress((totalPages - remainingPages) * page, totalPages * page)
        : undefined,
    });
    const copy = new DatabaseSync(dest);
    try {
      copy.exec("PRAGMA journal_mode = DELETE");
      copy.prepare("PRAGMA incremental_vacuum").all();
    } finally {
      copy.close();
    }
  }

  /**
   * Makes a closed store file self-contained: folds its write-ahead log in
   * and leaves it in rollback-journal mode, so it can be renamed, copied or
   * opened read-only on its own (Trove switches it back to WAL on its next
   * writable open). `Busy` when another connection still has it open.
   */
  static settle(path: string): void {
    let raw: DatabaseSync;
    try {
      raw = new DatabaseSync(path, { timeout: 5000 });
    } catch (e) {
      throw fromSqliteError(e, path);
    }
    try {
      const mode = raw.prepare("PRAGMA journal_mode = DELETE").get() as { journal_mode: string };
      if (mode.journal_mode !== "delete") {
        throw new Busy("the store file is still in use elsewhere", path);
      }
    } catch (e) {
      throw fromSqliteError(e, path);
    } finally {
      raw.close();
    }
    if (fileSize(path + "-wal") !== null) {
      throw new Busy("the store's write-ahead log could not be folded into it", path);
    }
  }

  /** Closes the connection; further use throws. */
  close(): void {
    this.#statements.clear();
    if (this.raw.isOpen) this.raw.close();
  }
}
