/**
 * The `trove` command: one entry point, one subcommand per file. Exit codes
 * follow the error classes (see the README's table); 2 is a bad command
 * line, 1 an unexpected failure.
 *
 * @module
 */

import { type Command, COMMON_OPTIONS, parse, report, UsageError } from "./_common.ts";
import { command as init } from "./init.ts";
import { command as volume } from "./volume.ts";
import { command as info } from "./info.ts";
import { command as ls } from "./ls.ts";
import { command as stat } from "./stat.ts";
import { command as cat } from "./cat.ts";
import { command as put } from "./put.ts";
import { command as get } from "./get.ts";
import { command as mkdir } from "./mkdir.ts";
import { command as rm } from "./rm.ts";
import { command as mv } from "./mv.ts";
import { command as cp } from "./cp.ts";
import { command as find } from "./find.ts";
import { command as glob } from "./glob.ts";
import { command as tree } from "./tree.ts";
import { command as du } from "./du.ts";
import { command as versions } from "./versions.ts";
import { command as restore } from "./restore.ts";
import { command as check } from "./check.ts";
import { command as gc } from "./gc.ts";
import { command as exportCmd } from "./export.ts";
import { command as pack } from "./pack.ts";
import { command as unpack } from "./unpack.ts";
import { command as key } from "./key.ts";
import { command as serve } from "./serve.ts";
import { command as mount } from "./mount.ts";
import { command as user } from "./user.ts";
import { command as snapshot } from "./snapshot.ts";
import { command as trash } from "./trash.ts";
import { command as layers } from "./layers.ts";
import { command as kv } from "./kv.ts";
import { read, remove as deleteById, write } from "./ids.ts";

export const COMMANDS: Command[] = [
  init,
  volume,
  info,
  ls,
  stat,
  cat,
  put,
  get,
  mkdir,
  rm,
  mv,
  cp,
  find,
  glob,
  tree,
  du,
  versions,
  restore,
  snapshot,
  trash,
  check,
  gc,
  exportCmd,
  pack,
  unpack,
  key,
  serve,
  mount,
  layers,
  kv,
  write,
  read,
  deleteById,
  user,
];

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `trove — a whole filesystem in one SQLite file

Usage: trove [GLOBAL OPTIONS] COMMAND [OPTIONS]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n")}

Every command takes --store PATH (default $TROVE_STORE or ./trove.db),
--volume NAME (default "default"), --json and --help, before or after
the command name (trove --store vault.trove ls /).
Run "trove COMMAND --help" for a command's options and examples.`;
}

/**
 * Splits the options every command takes from the front of the command
 * line (`trove --store S --json ls /`, as restic, rclone and git users type
 * them) and returns them with the command name and its own arguments.
 */
export function splitGlobal(argv: string[]): { name?: string; rest: string[] } {
  const global: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--help" || a === "-h" || a === "--version" || !a.startsWith("--")) break;
    const key = a.slice(2).split("=")[0];
    const spec = (COMMON_OPTIONS as Record<string, { type: string }>)[key];
    if (!spec) throw new UsageError(`unknown option ${a} before the command`);
    global.push(a);
    if (spec.type === "string" && !a.includes("=")) {
      if (i + 1 >= argv.length) throw new UsageError(`${a} needs a value`);
      global.push(argv[++i]);
    }
  }
  return { name: argv[i], rest: [...global, ...argv.slice(i + 1)] };
}

/**
 * The directory the user ran `deno task …` from. The task runs in the
 * repository's root and passes the user's directory as `INIT_CWD`;
 * relative host paths (`--store`, `put`/`get` paths, key files) must start
 * from where the user stands, so the CLI moves there first. Only when it
 * runs in the repository's root: a process started elsewhere that merely
 * inherited `INIT_CWD` keeps its own directory.
 */
function enterUserDirectory(): void {
  let init: string | undefined;
  try {
    init = Deno.env.get("INIT_CWD");
  } catch {
    return; // no permission to read it: not a task run
  }
  if (!init) return;
  const root = new URL("../", import.meta.url);
  if (root.protocol !== "file:") return;
  const cwd = Deno.cwd();
  if (cwd.replace(/\/+$/, "") !== decodeURIComponent(root.pathname).replace(/\/+$/, "")) return;
  if (init !== cwd) Deno.chdir(init);
}

/** Runs the CLI with these arguments; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  let cmd: Command | undefined;
  try {
    const { name, rest } = splitGlobal(argv);
    if (!name || name === "--help" || name === "-h" || name === "help") {
      console.log(overview());
      return name ? 0 : 2;
    }
    if (name === "--version") {
      console.log("trove 0.1.0");
      return 0;
    }
    cmd = COMMANDS.find((c) => c.name === name);
    if (!cmd) throw new UsageError(`unknown command ${name}`);
    const args = parse(cmd, cmd.prepare ? cmd.prepare(rest) : rest);
    if (args.values.help) {
      console.log(cmd.usage);
      return 0;
    }
    return (await cmd.run(args)) ?? 0;
  } catch (e) {
    const code = report(e, argv);
    if (e instanceof UsageError) console.error(`\n${cmd ? cmd.usage : overview()}`);
    return code;
  }
}

if (import.meta.main) {
  enterUserDirectory();
  Deno.exit(await main(Deno.args));
}
