/**
 * `trove rm`: removes files and (with -r) directory trees.
 *
 * @module
 */

import { NotEmpty, NotFound } from "../mod.ts";
import { type Command, expectArgs, openSession, UsageError, volPath } from "./_common.ts";

export const command: Command = {
  name: "rm",
  summary: "remove files and directories",
  usage: `trove rm [-r] [-f] [--permanent] PATH...

Removes each entry. A directory needs -r unless it is empty. With the
volume's trash on (the default), removed files and trees go to the trash
("trove trash ls", "trove trash restore"); --permanent deletes at once.
Deleted content is freed by "trove gc" once nothing else refers to it.

Options:
  -r, --recursive   remove directories and everything in them
  -f, --force       a missing PATH is not an error
  --permanent       skip the trash

Examples:
  trove rm /tmp/scratch.txt
  trove rm -r /old-photos`,
  options: {
    recursive: { type: "boolean", short: "r" },
    force: { type: "boolean", short: "f" },
    permanent: { type: "boolean" },
  },
  async run(args) {
    const paths = expectArgs(args, 1, Infinity, "a PATH").map(volPath);
    if (paths.some((p) => p.replace(/\/+$/, "") === "")) {
      throw new UsageError("refusing to remove the root directory");
    }
    await using s = await openSession(args, { write: true });
    for (const p of paths) {
      try {
        await s.vol.remove(p, {
          recursive: !!args.values.recursive,
          permanent: !!args.values.permanent,
        });
      } catch (e) {
        if (e instanceof NotEmpty) {
          const dir = p.endsWith("/") ? p : p + "/";
          throw new NotEmpty("directory not empty (rm -r removes it with everything in it)", dir);
        }
        if (!(args.values.force && e instanceof NotFound)) throw e;
      }
    }
  },
};
