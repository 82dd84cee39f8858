/**
 * `trove mv`: renames and moves entries.
 *
 * @module
 */

import { joinPath } from "../mod.ts";
import {
  baseName,
  type Command,
  isVolumeDir,
  openSession,
  sourcesAndDest,
  volPath,
} from "./_common.ts";

export const command: Command = {
  name: "mv",
  summary: "move or rename files and directories",
  usage: `trove mv SRC... DEST

Moves each SRC to DEST, or into DEST when it is an existing directory or
there are several SRCs. A file at DEST is replaced, atomically.

Options:
  -n, --no-clobber   fail instead of replacing an existing DEST

Examples:
  trove mv /draft.md /docs/plan.md
  trove mv /a.jpg /b.jpg /photos/`,
  options: { "no-clobber": { type: "boolean", short: "n" } },
  async run(args) {
    const given = sourcesAndDest(args);
    const sources = given.sources.map(volPath);
    const dest = volPath(given.dest);
    await using s = await openSession(args, { write: true });
    const into = sources.length > 1 || (await isVolumeDir(s.vol, dest));
    for (const src of sources) {
      const target = into ? joinPath(dest, baseName(src)) : dest;
      await s.vol.rename(src, target, { noReplace: !!args.values["no-clobber"] });
    }
  },
};
