/**
 * Runs the `trove` CLI the way `deno task trove` does: the same entry point
 * with the same permission flags, read from deno.json so the test fails if
 * the task's flags are too narrow.
 */

const ROOT = new URL("../", import.meta.url).pathname;
const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));

/**
 * The `deno` arguments of a task, with the entry point made absolute and
 * `$NAME` expanded as `deno task` would (`$INIT_CWD`, the directory the task
 * was started from, is the child's `cwd` here).
 */
export function taskArgs(task: string, cwd = "."): string[] {
  const words = (config.tasks[task] as string).split(/\s+/);
  if (words[0] !== "deno") throw new Error(`task ${task} does not start with deno`);
  return words.slice(1).map((w) =>
    w.endsWith(".ts") ? ROOT + w : w.replace(
      /\$([A-Z_]+)/g,
      (_, name: string) => name === "INIT_CWD" ? cwd : Deno.env.get(name) ?? "",
    )
  );
}

/** What a CLI run printed and returned. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  bytes: Uint8Array;
}

/** Runs `trove ARGS` in `cwd` (stdin from `input`), never throwing. */
export async function trove(
  cwd: string,
  args: string[],
  options: { input?: Uint8Array | string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...taskArgs("trove", cwd), ...args],
    cwd,
    env: { TROVE_NO_PROGRESS: "", ...options.env },
    stdin: options.input !== undefined ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.input !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(
      typeof options.input === "string" ? new TextEncoder().encode(options.input) : options.input,
    );
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
    bytes: out.stdout,
  };
}

/** Runs `trove ARGS` and throws unless it exits 0. */
export async function troveOk(
  cwd: string,
  args: string[],
  options: { input?: Uint8Array | string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  const r = await trove(cwd, args, options);
  if (r.code !== 0) {
    throw new Error(`trove ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  }
  return r;
}
