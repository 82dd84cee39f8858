/**
 * `trove key add|remove|list|change`: the key slots of an encrypted volume.
 * Nothing is re-encrypted: a slot wraps the volume key.
 *
 * @module
 */

import { generateKeyFile, type KdfOptions } from "../mod.ts";
import {
  type Command,
  credential,
  openStore,
  parseCount,
  type Parsed,
  printJson,
  table,
  UsageError,
  volumeName,
} from "./_common.ts";

function newCredential(args: Parsed) {
  return credential(args, "new passphrase", {
    confirm: true,
    keyOption: "new-key-file",
    fileOption: "new-passphrase-file",
    envName: "TROVE_NEW_PASSPHRASE",
  });
}

function kdf(args: Parsed): KdfOptions | undefined {
  const memory = args.values["kdf-memory"] as string | undefined;
  const passes = args.values["kdf-passes"] as string | undefined;
  if (memory === undefined && passes === undefined) return undefined;
  return {
    memoryKiB: memory === undefined ? undefined : parseCount(memory, "--kdf-memory") * 1024,
    iterations: passes === undefined ? undefined : parseCount(passes, "--kdf-passes"),
  };
}

export const command: Command = {
  name: "key",
  summary: "add, remove, list and change the keys of an encrypted volume",
  usage: `trove key list [--volume NAME]
trove key add [--new-key-file FILE | --generate-key FILE | --new-passphrase-file FILE]
trove key change [--new-key-file FILE | --new-passphrase-file FILE]
trove key remove SLOT

The current key comes from --key-file, --passphrase-file, TROVE_PASSPHRASE
or a prompt; a new passphrase from --new-passphrase-file,
TROVE_NEW_PASSPHRASE or a prompt (asked twice). "change" replaces the slot
the current key opens. The last slot cannot be removed.

Options:
  --generate-key FILE     write a new random key file and add it
  --kdf-memory MIB        Argon2id memory for a new passphrase (default 64)
  --kdf-passes N          Argon2id passes for a new passphrase (default 3)

Examples:
  trove key list --volume vault
  trove key add --volume vault --generate-key backup.key
  trove key change --volume vault
  trove key remove 1 --volume vault --key-file backup.key`,
  options: {
    "new-key-file": { type: "string" },
    "new-passphrase-file": { type: "string" },
    "generate-key": { type: "string" },
    "kdf-memory": { type: "string" },
    "kdf-passes": { type: "string" },
  },
  async run(args) {
    const [verb, ...rest] = args.positionals;
    const name = volumeName(args);
    const none = () => {
      if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
    };
    switch (verb) {
      case "list": {
        none();
        await using store = await openStore(args, { readOnly: true });
        const slots = await store.keySlots(name);
        if (args.values.json) return printJson(slots);
        console.log(table([
          ["SLOT", "KIND", "KDF", "CREATED"],
          ...slots.map((s) => [
            String(s.id),
            s.kind,
            s.kdf ? `argon2id ${s.kdf.memoryKiB / 1024} MiB, ${s.kdf.iterations} passes` : "-",
            s.created.toISOString(),
          ]),
        ]));
        return;
      }
      case "add":
      case "change": {
        none();
        const generate = args.values["generate-key"] as string | undefined;
        if (generate && verb === "change") {
          throw new UsageError("use --generate-key with key add, then remove the old slot");
        }
        await using store = await openStore(args);
        const current = await credential(args, `current passphrase for ${name}`);
        if (generate) await generateKeyFile(generate);
        try {
          const next = generate ? { keyFile: generate } : await newCredential(args);
          const id = verb === "add"
            ? await store.addKey(name, current, next, kdf(args))
            : await store.changeKey(name, current, next, kdf(args));
          if (args.values.json) printJson({ volume: name, slot: id });
          else console.log(`${verb === "add" ? "added" : "replaced the key with"} slot ${id}`);
        } catch (e) {
          if (generate) await Deno.remove(generate).catch(() => {});
          throw e;
        }
        return;
      }
      case "remove": {
        if (rest.length !== 1) throw new UsageError("key remove needs one SLOT");
        const slot = parseCount(rest[0], "SLOT");
        await using store = await openStore(args);
        const current = await credential(args, `passphrase for ${name}`);
        await store.removeKey(name, current, slot);
        if (!args.values.json) console.log(`removed slot ${slot}`);
        return;
      }
      default:
        throw new UsageError(verb ? `unknown key command ${verb}` : "key needs a command");
    }
  },
};
