/**
 * What every `trove` subcommand shares: option parsing, opening the store,
 * getting credentials, printing, and turning errors into exit codes — the
 * CLI's one table (`_errors.ts`), applied in one place.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import {
  AlreadyExists,
  BadKey,
  type ByNode,
  type Credential,
  type FileSystem,
  IsADirectory,
  NotADirectory,
  NotFound,
  Overlay,
  PermissionDenied,
  QuotaExceeded,
  Store,
  TroveError,
  type Volume,
} from "../mod.ts";
import { EXIT_USAGE, exitCodeOf } from "./_errors.ts";

/** A bad command line: one line and the usage, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Options every subcommand takes. */
export const COMMON_OPTIONS = {
  store: { type: "string" },
  volume: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  "passphrase-file": { type: "string" },
  "key-file": { type: "string" },
} as const;

/** One subcommand: its usage text and what it does. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig["options"]>;
  /** Rewrites the arguments before they are parsed (spellings other tools use). */
  prepare?(argv: string[]): string[];
  run(args: Parsed): Promise<number | void>;
}

/** Parsed options and positionals. */
export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** Parses a subcommand's arguments; `UsageError` on anything unknown. */
export function parse(cmd: Command, argv: string[]): Parsed {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...COMMON_OPTIONS, ...cmd.options },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Parsed["values"], positionals };
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\. To specify.*$/s, ""));
  }
}

/** The store path: `--store`, else `TROVE_STORE`, else `./trove.db`. */
export function storePath(args: Parsed): string {
  return (args.values.store as string | undefined) ?? Deno.env.get("TROVE_STORE") ?? "./trove.db";
}

/** Opens the store the command names. */
export async function openStore(
  args: Parsed,
  options: { create?: boolean; readOnly?: boolean } = {},
): Promise<Store> {
  return await Store.open(storePath(args), options);
}

/**
 * Reads a secret from the terminal without echoing it. Refuses (BadKey)
 * when there is no terminal: pipes and CI give secrets by file or env.
 */
export async function promptSecret(
  message: string,
  missing =
    "no passphrase given: use --passphrase-file, --key-file, TROVE_PASSPHRASE, or a terminal",
): Promise<string> {
  if (!Deno.stdin.isTerminal()) throw new BadKey(missing);
  const enc = new TextEncoder();
  await Deno.stderr.write(enc.encode(message));
  Deno.stdin.setRaw(true);
  const bytes: number[] = [];
  const buf = new Uint8Array(1);
  try {
    while (true) {
      const n = await Deno.stdin.read(buf);
      if (n === null || buf[0] === 13 || buf[0] === 10) break;
      if (buf[0] === 3) throw new BadKey("cancelled");
      if (buf[0] === 127 || buf[0] === 8) bytes.pop();
      else bytes.push(buf[0]);
    }
  } finally {
    Deno.stdin.setRaw(false);
    await Deno.stderr.write(enc.encode("\n"));
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** Where a credential may come from: option names and environment variable. */
export interface CredentialSource {
  /** Ask twice when prompting (a new passphrase). */
  confirm?: boolean;
  keyOption?: string;
  fileOption?: string;
  envName?: string;
}

/**
 * A credential: `--key-file`, `--passphrase-file` (`-` for stdin),
 * `TROVE_PASSPHRASE`, or a no-echo prompt; other option names and variable
 * for other secrets (a pack's).
 */
export async function credential(
  args: Parsed,
  what = "passphrase",
  source: CredentialSource = {},
): Promise<Credential> {
  const keyFile = args.values[source.keyOption ?? "key-file"] as string | undefined;
  if (keyFile) return { keyFile };
  const file = args.values[source.fileOption ?? "passphrase-file"] as string | undefined;
  if (file) {
    const text = file === "-"
      ? await new Response(Deno.stdin.readable).text()
      : await Deno.readTextFile(file);
    return { passphrase: text.replace(/\r?\n$/, "") };
  }
  const env = Deno.env.get(source.envName ?? "TROVE_PASSPHRASE");
  if (env) return { passphrase: env };
  const passphrase = await promptSecret(`${what}: `);
  if (source.confirm && (await promptSecret(`${what} again: `)) !== passphrase) {
    throw new BadKey("the two passphrases differ");
  }
  return { passphrase };
}

/** The volume name the command works on: `--volume`, else "default". */
export function volumeName(args: Parsed): string {
  return (args.values.volume as string | undefined) ?? "default";
}

/** Opens the volume the command names (unlocking it if it is encrypted). */
export async function openVolume(
  store: Store,
  args: Parsed,
  options: { name?: string; readOnly?: boolean } = {},
): Promise<Volume> {
  const name = options.name ?? volumeName(args);
  const summary = (await store.volumes()).find((v) => v.name === name);
  const secret = summary?.encrypted ? await credential(args, `passphrase for ${name}`) : undefined;
  return await store.volume(name, { ...secret, readOnly: options.readOnly });
}

/** A store and one of its volumes, closed together. */
export interface Session extends AsyncDisposable {
  store: Store;
  vol: Volume;
  /** What reading commands read: the volume, or the snapshot `--snapshot` names. */
  fs: FileSystem;
}

/**
 * The verb of a command with subcommands (`trove trash restore …`), its
 * arguments, and `want(min, max, what)`, which refuses too few or too many.
 */
export function subcommand(args: Parsed, command: string): {
  verb: string | undefined;
  rest: string[];
  want(min: number, max: number, what: string): void;
} {
  const [verb, ...rest] = args.positionals;
  return {
    verb,
    rest,
    want(min, max, what) {
      if (rest.length < min) throw new UsageError(`${command} ${verb} needs ${what}`);
      if (rest.length > max) throw new UsageError(`unexpected argument ${rest[max]}`);
    },
  };
}

/** `--layer STORE` (repeatable): read-only layers under the volume (serve, mount, layers). */
export const LAYER_OPTION = {
  layer: { type: "string", multiple: true },
} as const;

/**
 * The volume with the `--layer` stores under it (the first named is
 * searched first), or the volume itself when none is named. Dispose of
 * the result to close the layers' stores.
 */
export async function withLayers(
  vol: Volume,
  args: Parsed,
): Promise<{ fs: FileSystem & ByNode; overlay: Overlay | null } & AsyncDisposable> {
  const paths = (args.values.layer as string[] | undefined) ?? [];
  if (paths.length === 0) return { fs: vol, overlay: null, [Symbol.asyncDispose]: async () => {} };
  const overlay = await Overlay.open({ upper: vol });
  try {
    for (const [i, p] of paths.entries()) await overlay.addLayer(p, { priority: paths.length - i });
  } catch (e) {
    await overlay.close();
    throw e;
  }
  return { fs: overlay, overlay, [Symbol.asyncDispose]: () => overlay.close() };
}

/** The `--snapshot NAME` option of the reading commands. */
export const SNAPSHOT_OPTION = {
  snapshot: { type: "string" },
} as const;

/**
 * Opens the store and the volume a command works on: read-only unless the
 * command writes, so reading never contends with a running server.
 */
export async function openSession(args: Parsed, options: { write?: boolean } = {}): Promise<
  Session
> {
  const store = await openStore(args, { readOnly: !options.write });
  try {
    const vol = await openVolume(store, args, { readOnly: !options.write });
    const name = args.values.snapshot;
    const fs = typeof name === "string" ? await vol.snapshot(name) : vol;
    return { store, vol, fs, [Symbol.asyncDispose]: () => store.close() };
  } catch (e) {
    await store.close();
    throw e;
  }
}

/** True when `path` exists in the volume and is a directory. */
export async function isVolumeDir(vol: Volume, path: string): Promise<boolean> {
  try {
    return (await vol.stat(path)).isDirectory;
  } catch (e) {
    if (e instanceof NotFound) return false;
    throw e;
  }
}

/** Volume settings from `--chunk-size`, `--compression`, `--keep`, `--capacity` (`none`). */
export function volumeSettings(args: Parsed): {
  chunkSize?: number;
  compression?: number;
  keepVersions?: number;
  capacity?: number | null;
} {
  const v = args.values;
  return {
    chunkSize: v["chunk-size"] ? parseSize(v["chunk-size"] as string) : undefined,
    compression: v.compression !== undefined
      ? parseCount(v.compression as string, "--compression")
      : undefined,
    keepVersions: v.keep !== undefined ? parseCount(v.keep as string, "--keep") : undefined,
    capacity: v.capacity === undefined
      ? undefined
      : v.capacity === "none"
      ? null
      : parseSize(v.capacity as string),
  };
}

/** The options of `volumeSettings`. */
export const SETTINGS_OPTIONS = {
  "chunk-size": { type: "string" },
  compression: { type: "string" },
  keep: { type: "string" },
  capacity: { type: "string" },
} as const;

/** A volume path from the command line: relative ones start at the root. */
export function volPath(path: string): string {
  if (path === "") throw new UsageError("an empty path");
  return path.startsWith("/") ? path : `/${path}`;
}

/** The last component of a path. */
export function baseName(path: string): string {
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  return parts[parts.length - 1] ?? "";
}

/** Exactly `n` positionals, or a usage error naming what is missing. */
export function expectArgs(args: Parsed, min: number, max: number, what: string): string[] {
  const p = args.positionals;
  if (p.length < min) throw new UsageError(`missing ${what}`);
  if (p.length > max) throw new UsageError(`unexpected argument ${p[max]}`);
  return p;
}

/** `SRC... DEST` positionals: the sources and the destination, as given. */
export function sourcesAndDest(args: Parsed): { sources: string[]; dest: string } {
  const all = expectArgs(args, 2, Infinity, "SRC and DEST");
  return { sources: all.slice(0, -1), dest: all[all.length - 1] };
}

/** Parses a size such as 512, 64K, 10MiB or 2G (binary units). */
export function parseSize(text: string): number {
  const m = text.trim().match(/^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?$/i);
  if (!m) throw new UsageError(`not a size: ${text}`);
  const power = " kmgtp".indexOf(m[2].toLowerCase() || " ");
  return Math.round(Number(m[1]) * 1024 ** power);
}

/** Parses a non-negative integer option. */
export function parseCount(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${what} takes a whole number, not ${text}`);
  return Number(text);
}

/** Parses permission bits written in octal (755). */
export function parseMode(text: string): number {
  if (!/^[0-7]{1,4}$/.test(text)) throw new UsageError(`--mode takes octal bits, not ${text}`);
  return parseInt(text, 8);
}

/** The kinds of entry, as words (`ls`, `stat`, `find --json`). */
export type KindWord = "file" | "dir" | "symlink" | "fifo" | "socket" | "char" | "block";

const TYPE_CHARS: Record<KindWord, string> = {
  file: "-",
  dir: "d",
  symlink: "l",
  fifo: "p",
  socket: "s",
  char: "c",
  block: "b",
};

/**
 * An `ls -l` style mode string (drwxr-xr-x, with s/S, t/T for the
 * set-ID and sticky bits).
 */
export function modeString(mode: number, kind: KindWord): string {
  const bits = "rwxrwxrwx";
  let out = TYPE_CHARS[kind];
  for (let i = 0; i < 9; i++) out += mode & (1 << (8 - i)) ? bits[i] : "-";
  const special = (at: number, bit: number, set: string) => {
    if (!(mode & bit)) return;
    const x = out[at] === "x";
    out = out.slice(0, at) + (x ? set : set.toUpperCase()) + out.slice(at + 1);
  };
  special(3, 0o4000, "s");
  special(6, 0o2000, "s");
  special(9, 0o1000, "t");
  return out;
}

/**
 * The kind of an entry, as a word. Pass a `FileInfo` for special files: a
 * bare directory entry does not say which special file it is.
 */
export function kindOf(
  e: {
    isDirectory: boolean;
    isSymlink: boolean;
    isFile?: boolean;
    isFifo?: boolean;
    isSocket?: boolean;
    isCharDevice?: boolean;
    isBlockDevice?: boolean;
  },
): KindWord {
  if (e.isDirectory) return "dir";
  if (e.isSymlink) return "symlink";
  if (e.isSocket) return "socket";
  if (e.isCharDevice) return "char";
  if (e.isBlockDevice) return "block";
  if (e.isFifo) return "fifo";
  return "file";
}

/** A date as local "YYYY-MM-DD HH:MM". */
export function shortDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${
    p(d.getMinutes())
  }`;
}

/** Bytes as a human size (1.5 GiB). */
export function human(n: number | null): string {
  if (n === null) return "unlimited";
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[u]}`;
}

/** A count with its noun: "1 volume", "3 volumes", "2 entries". */
export function plural(n: number, one: string, many = one + "s"): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Prints rows as aligned columns. */
export function table(rows: string[][]): string {
  if (rows.length === 0) return "";
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) =>
    r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ").trimEnd()
  ).join("\n");
}

/** Prints a value as JSON (bigints as numbers, Dates as ISO strings). */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? Number(v) : v), 2));
}

/**
 * A failure of the host's file system as the Trove class it means, naming
 * the host path (never a temporary name): what `put` and `get` report.
 */
export function hostError(e: unknown, path: string, what = "on the host"): unknown {
  if (e instanceof Deno.errors.NotFound) {
    return new NotFound(`no such file or directory ${what}`, path);
  }
  if (e instanceof Deno.errors.AlreadyExists) return new AlreadyExists(`exists ${what}`, path);
  if (e instanceof Deno.errors.PermissionDenied) {
    return new PermissionDenied(`permission denied ${what}`, path);
  }
  if (e instanceof Deno.errors.NotADirectory) {
    return new NotADirectory(`not a directory ${what}`, path);
  }
  if (e instanceof Deno.errors.IsADirectory) {
    return new IsADirectory(`is a directory ${what}`, path);
  }
  if (e instanceof Error && /No space left|os error 28/.test(e.message)) {
    return new QuotaExceeded(`the host disk is full`, path);
  }
  return e;
}

/** The command line again, quoted for a shell, for hints. */
function shellLine(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`))
    .join(" ");
}

/**
 * Turns an error into its message and exit code: a storage error prints
 * its class and message (never a stack), a usage error exits 2. `argv` is
 * the command line, for the hint when a narrow task's permissions refused.
 */
export function report(e: unknown, argv?: string[]): number {
  if (e instanceof UsageError) {
    console.error(`trove: ${e.message}`);
    return EXIT_USAGE;
  }
  if (e instanceof TroveError) {
    const hint = e instanceof NotFound && e.message.startsWith("no store at this path")
      ? " (create one with: trove init)"
      : "";
    console.error(`trove: ${e.name}: ${e.message}${hint}`);
    return exitCodeOf(e);
  }
  if (e instanceof Deno.errors.NotCapable || (e as Error)?.name === "NotCapable") {
    const message = (e as Error).message.replace(/, run again with the --allow-\S+ flag$/, "");
    console.error(`trove: PermissionDenied: ${message}`);
    console.error(
      argv
        ? `The serve and mount tasks may touch only the directory they run from. For a store elsewhere, run:\n  deno task trove ${
          shellLine(argv)
        }`
        : "Run the trove binary, or deno with that permission.",
    );
    return 8;
  }
  if (e instanceof Deno.errors.NotFound) {
    console.error(`trove: ${(e as Error).message}`);
    return 3;
  }
  console.error(`trove: unexpected error: ${(e as Error)?.message ?? e}`);
  if (Deno.env.get("TROVE_DEBUG")) console.error((e as Error)?.stack);
  return 1;
}
