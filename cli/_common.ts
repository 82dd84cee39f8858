/**
 * What every `trove` subcommand shares: option parsing, opening the store,
 * getting credentials, printing, and turning errors into exit codes — one
 * table (`ERROR_TABLE` in src/errors.ts), applied in one place.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import { BadKey, type Credential, errorMapping, Store, TroveError, type Volume } from "../mod.ts";

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
export async function promptSecret(message: string): Promise<string> {
  if (!Deno.stdin.isTerminal()) {
    throw new BadKey(
      "no passphrase given: use --passphrase-file, --key-file, TROVE_PASSPHRASE, or a terminal",
    );
  }
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

/**
 * The credential for an encrypted volume: `--key-file`, `--passphrase-file`
 * (`-` for one line of stdin), `TROVE_PASSPHRASE`, or a prompt.
 */
export async function credential(args: Parsed, what = "passphrase"): Promise<Credential> {
  const keyFile = args.values["key-file"] as string | undefined;
  if (keyFile) return { keyFile };
  const file = args.values["passphrase-file"] as string | undefined;
  if (file) {
    const text = file === "-"
      ? await new Response(Deno.stdin.readable).text()
      : await Deno.readTextFile(file);
    return { passphrase: text.replace(/\r?\n$/, "") };
  }
  const env = Deno.env.get("TROVE_PASSPHRASE");
  if (env) return { passphrase: env };
  return { passphrase: await promptSecret(`${what}: `) };
}

/** Opens the volume the command names (unlocking it if it is encrypted). */
export async function openVolume(store: Store, args: Parsed, name?: string): Promise<Volume> {
  const volName = name ?? (args.values.volume as string | undefined) ?? "default";
  const summary = (await store.volumes()).find((v) => v.name === volName);
  if (summary?.encrypted) {
    return await store.volume(volName, await credential(args, `passphrase for ${volName}`));
  }
  return await store.volume(volName);
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
 * Turns an error into its message and exit code: a storage error prints
 * its class and message (never a stack), a usage error exits 2.
 */
export function report(e: unknown): number {
  if (e instanceof UsageError) {
    console.error(`trove: ${e.message}`);
    return 2;
  }
  if (e instanceof TroveError) {
    console.error(`trove: ${e.name}: ${e.message}`);
    return errorMapping(e).exit;
  }
  if (e instanceof Deno.errors.NotCapable || (e as Error)?.name === "NotCapable") {
    console.error(
      `trove: ${(e as Error).message} (run the trove binary, or deno with that permission)`,
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
