/**
 * `trove versions`: the stored versions of a file.
 *
 * @module
 */

import {
  type Command,
  expectArgs,
  human,
  openSession,
  printJson,
  table,
  volPath,
} from "./_common.ts";

export const command: Command = {
  name: "versions",
  summary: "list the stored versions of a file",
  usage: `trove versions PATH

Lists each kept version, newest first; "trove restore" brings one back.
How many are kept is the volume's setting (trove volume set --keep).

Examples:
  trove versions /docs/plan.md
  trove versions /docs/plan.md --json`,
  options: {},
  async run(args) {
    const [path] = expectArgs(args, 1, 1, "a PATH");
    await using s = await openSession(args);
    const versions = await s.vol.versions(volPath(path));
    if (args.values.json) return printJson(versions);
    console.log(table([
      ["VERSION", "SIZE", "MODIFIED", "COMMITTED", ""],
      ...versions.map((v) => [
        String(v.version),
        human(v.size),
        v.mtime.toISOString(),
        v.created.toISOString(),
        v.current ? "current" : "",
      ]),
    ]));
  },
};
