/**
 * `trove restore`: brings back an earlier version of a file.
 *
 * @module
 */

import { NotFound } from "../mod.ts";
import {
  type Command,
  expectArgs,
  openSession,
  parseCount,
  printJson,
  volPath,
} from "./_common.ts";

export const command: Command = {
  name: "restore",
  summary: "bring back an earlier version of a file",
  usage: `trove restore PATH [--version N]

Makes version N (default: the one before the current) the file's content,
as a new version: nothing is lost, the replaced content stays a version too.

Examples:
  trove restore /docs/plan.md
  trove restore /docs/plan.md --version 3`,
  options: { version: { type: "string" } },
  async run(args) {
    const [raw] = expectArgs(args, 1, 1, "a PATH");
    const path = volPath(raw);
    await using s = await openSession(args, { write: true });
    let version: number;
    if (args.values.version !== undefined) {
      version = parseCount(args.values.version as string, "--version");
    } else {
      const versions = await s.vol.versions(path);
      const i = versions.findIndex((v) => v.current);
      const previous = versions[i + 1];
      if (!previous) throw new NotFound("no earlier version is kept", path);
      version = previous.version;
    }
    const made = await s.vol.restore(path, version);
    if (args.values.json) printJson({ path, restored: version, version: made });
    else console.log(`restored version ${version} of ${path} as version ${made}`);
  },
};
