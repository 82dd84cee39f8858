/**
 * `trove pack`: a subtree of the volume as one self-contained file.
 *
 * @module
 */

import { type Credential, pack } from "../mod.ts";
import {
  type Command,
  credential,
  expectArgs,
  human,
  openSession,
  type Parsed,
  plural,
  printJson,
  volPath,
} from "./_common.ts";
import { ProgressBar, progressWanted } from "./_progress.ts";

export const command: Command = {
  name: "pack",
  summary: "write a subtree as one self-contained file",
  usage: `trove pack PATH DEST [--encrypt | --pack-key-file FILE]

Writes the tree at PATH (a directory's contents, or one file) to DEST as a
new Trove store: deduplicated and compressed, each file's current version
with its modes, times, symlinks, hard links and extended attributes. DEST
is written aside and renamed into place; an existing DEST is refused. Open
it with "trove --store DEST ..." or bring it back with "trove unpack".

Options:
  --encrypt              encrypt the pack under a new passphrase
                         (--pack-passphrase-file, TROVE_PACK_PASSPHRASE or a prompt)
  --pack-key-file FILE   encrypt the pack under this key file

Examples:
  trove pack /projects/site site.pack
  trove pack /docs docs.pack --pack-key-file share.key`,
  options: {
    encrypt: { type: "boolean" },
    "pack-key-file": { type: "string" },
    "pack-passphrase-file": { type: "string" },
  },
  async run(args) {
    const [path, dest] = expectArgs(args, 2, 2, "PATH and DEST");
    await using s = await openSession(args);
    const encryptWith = args.values.encrypt || args.values["pack-key-file"]
      ? await packCredential(args, true)
      : undefined;
    const bar = new ProgressBar("pack", { enabled: progressWanted(!!args.values.json) });
    const p = await pack(s.vol, volPath(path), dest, {
      encryptWith,
      onProgress: (p) => bar.update(p.bytes, p.totalBytes),
    }).finally(() => bar.finish());
    const size = (await Deno.stat(dest)).size;
    if (args.values.json) printJson({ ...p, dest, packBytes: size });
    else {
      console.log(
        `packed ${plural(p.files, "file")} (${human(p.bytes)}) from ${path} into ${dest} (${
          human(size)
        })`,
      );
    }
  },
};

/** The pack's own credential: its options, TROVE_PACK_PASSPHRASE, or a prompt. */
export function packCredential(args: Parsed, confirm: boolean): Promise<Credential> {
  return credential(args, "pack passphrase", {
    confirm,
    keyOption: "pack-key-file",
    fileOption: "pack-passphrase-file",
    envName: "TROVE_PACK_PASSPHRASE",
  });
}
