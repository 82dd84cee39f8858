/**
 * `trove init`: creates a store with its default volume, encrypted when a
 * key is given or generated.
 *
 * @module
 */

import { AlreadyExists, generateKeyFile, Store } from "../mod.ts";
import {
  type Command,
  credential,
  expectArgs,
  printJson,
  SETTINGS_OPTIONS,
  storePath,
  volumeSettings,
} from "./_common.ts";

export const command: Command = {
  name: "init",
  summary: "create a store (and its default volume)",
  usage: `trove init [--encrypt | --generate-key FILE | --key-file FILE] [settings]

Creates the store file (--store, $TROVE_STORE or ./trove.db) with one volume,
"default". An existing file is never touched.

Options:
  --encrypt               encrypt the default volume under a passphrase
                          (--passphrase-file, TROVE_PASSPHRASE or a prompt)
  --generate-key FILE     write a new random 32-byte key file (never
                          overwritten) and encrypt the volume under it
  --key-file FILE         encrypt the volume under an existing key file
  --chunk-size SIZE       chunk size, a power of two from 4K to 16M (default 128K)
  --compression LEVEL     zstd level 1-19, 0 for none (default 3)
  --keep N                versions kept per file (default 10)
  --capacity SIZE         most bytes the volume may store (default unlimited)

Examples:
  trove init
  trove init --store vault.trove --generate-key vault.key
  trove init --store vault.trove --key-file vault.key --generate-key   (bsfs's spelling)
  TROVE_PASSPHRASE=... trove init --store secret.trove --encrypt`,
  options: {
    encrypt: { type: "boolean" },
    "generate-key": { type: "string" },
    ...SETTINGS_OPTIONS,
  },
  // bsfs spells it `init --key-file F --generate-key`: a bare --generate-key
  // writes the file --key-file names.
  prepare(argv) {
    const at = argv.findIndex((a) => a === "--generate-key");
    const bare = at >= 0 && (at === argv.length - 1 || argv[at + 1].startsWith("-"));
    if (!bare) return argv;
    const k = argv.findIndex((a) => a === "--key-file" || a.startsWith("--key-file="));
    if (k < 0) return argv;
    const file = argv[k].includes("=") ? argv[k].slice("--key-file=".length) : argv[k + 1];
    const rest = argv.filter((_, i) =>
      i !== at && i !== k && !(i === k + 1 && !argv[k].includes("="))
    );
    return [...rest, `--generate-key=${file}`];
  },
  async run(args) {
    expectArgs(args, 0, 0, "");
    const path = storePath(args);
    const { capacity, ...rest } = volumeSettings(args);
    const settings = { ...rest, capacity: capacity ?? undefined };
    try {
      await Deno.lstat(path);
      throw new AlreadyExists("a file exists at this path", path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    const generate = args.values["generate-key"] as string | undefined;
    if (generate) await generateKeyFile(generate);
    const encrypted = !!(generate || args.values.encrypt || args.values["key-file"]);
    const secret = generate
      ? { keyFile: generate }
      : encrypted
      ? await credential(args, "new passphrase", { confirm: true })
      : undefined;
    try {
      await using store = await Store.open(path, { create: true, defaultVolume: false });
      await store.createVolume("default", { ...settings, ...secret });
    } catch (e) {
      for (const suffix of ["", "-wal", "-shm"]) await Deno.remove(path + suffix).catch(() => {});
      if (generate) await Deno.remove(generate).catch(() => {});
      throw e;
    }
    if (args.values.json) printJson({ store: path, volume: "default", encrypted });
    else {
      console.log(
        `created ${path} with volume "default"${encrypted ? " (encrypted)" : ""}${
          generate ? `; key file ${generate}: keep it safe, it cannot be recovered` : ""
        }`,
      );
    }
  },
};
