/**
 * `trove glob`: prints the paths a glob pattern matches.
 *
 * @module
 */

import { type Command, expectArgs, kindOf, openSession, printJson } from "./_common.ts";

export const command: Command = {
  name: "glob",
  summary: "list paths matching glob patterns",
  usage: `trove glob PATTERN...

Patterns match whole paths from the root: * and ? within a name, ** across
directories, [...] and {a,b}. Quote them so the shell leaves them alone.

Examples:
  trove glob "/photos/**/*.{jpg,png}"
  trove glob "/docs/*.md" --json`,
  options: { "no-dirs": { type: "boolean" } },
  async run(args) {
    const patterns = expectArgs(args, 1, Infinity, "a PATTERN");
    await using s = await openSession(args);
    const found = [];
    for (const pattern of patterns) {
      for await (const e of s.vol.glob(pattern, { includeDirs: !args.values["no-dirs"] })) {
        if (args.values.json) found.push({ path: e.path, type: kindOf(e), ino: e.ino });
        else console.log(e.path);
      }
    }
    if (args.values.json) printJson(found);
  },
};
