/**
 * `trove mkdir`: creates directories.
 *
 * @module
 */

import { type Command, expectArgs, openSession, parseMode, volPath } from "./_common.ts";

export const command: Command = {
  name: "mkdir",
  summary: "create directories",
  usage: `trove mkdir [-p] [--mode OCTAL] PATH...

Options:
  -p, --parents   create missing parents; an existing directory is fine
  --mode OCTAL    permission bits (default 755)

Examples:
  trove mkdir /docs
  trove mkdir -p /photos/2026/11`,
  options: { parents: { type: "boolean", short: "p" }, mode: { type: "string" } },
  async run(args) {
    const paths = expectArgs(args, 1, Infinity, "a PATH").map(volPath);
    const modeText = args.values.mode as string | undefined;
    const mode = modeText === undefined ? undefined : parseMode(modeText);
    await using s = await openSession(args, { write: true });
    for (const p of paths) await s.vol.mkdir(p, { recursive: !!args.values.parents, mode });
  },
};
