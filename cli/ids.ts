/**
 * `trove write`, `trove read` and `trove delete`: files by id alone, as
 * bsfs keeps them (`Volume.files`). `write` prints the new file's id.
 *
 * @module
 */

import { InvalidArgument } from "../mod.ts";
import {
  type Command,
  expectArgs,
  hostError,
  openSession,
  printJson,
  UsageError,
} from "./_common.ts";

function idOf(value: unknown): string {
  if (typeof value !== "string" || value === "") throw new UsageError("--id ID is required");
  return value;
}

export const write: Command = {
  name: "write",
  summary: "store data as a new file and print its id",
  usage: `trove write (--data TEXT | --input-file FILE | -) [--id ID] [--json]

Stores the data as a new file of the volume (in /.files/) and prints its
id, a UUID that read, delete and stat --id take. --id gives the id
instead of a random one. "-" reads the data from stdin.

Examples:
  trove write --data "hello"
  trove write --input-file report.pdf
  id=$(trove write --data "hello") && trove read --id "$id"`,
  options: {
    data: { type: "string" },
    "input-file": { type: "string" },
    id: { type: "string" },
  },
  async run(args) {
    const [dash] = expectArgs(args, 0, 1, "");
    const text = args.values.data as string | undefined;
    const file = args.values["input-file"] as string | undefined;
    if ([text !== undefined, file !== undefined, dash === "-"].filter(Boolean).length !== 1) {
      throw new UsageError("give exactly one of --data TEXT, --input-file FILE or -");
    }
    if (dash !== undefined && dash !== "-") throw new UsageError(`unexpected argument ${dash}`);
    let bytes: Uint8Array;
    if (text !== undefined) bytes = new TextEncoder().encode(text);
    else if (file !== undefined) {
      try {
        bytes = await Deno.readFile(file);
      } catch (e) {
        throw hostError(e, file);
      }
    } else bytes = new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer());
    await using s = await openSession(args, { write: true });
    const id = await s.vol.files.write(bytes, { id: args.values.id as string | undefined });
    if (args.values.json) printJson({ id, size: bytes.length });
    else console.log(id);
  },
};

export const read: Command = {
  name: "read",
  summary: "print the content of the file with an id",
  usage: `trove read --id ID [--output FILE]

Writes the content of the file with this id (wherever it is in the
volume) to stdout, or to FILE.

Examples:
  trove read --id 3f0c…
  trove read --id 3f0c… --output copy.bin`,
  options: { id: { type: "string" }, output: { type: "string", short: "o" } },
  async run(args) {
    expectArgs(args, 0, 0, "");
    const id = idOf(args.values.id);
    await using s = await openSession(args);
    const data = await s.vol.files.read(id);
    const out = args.values.output as string | undefined;
    if (out === undefined) {
      let at = 0;
      while (at < data.length) at += await Deno.stdout.write(data.subarray(at));
      return;
    }
    try {
      await Deno.writeFile(out, data);
    } catch (e) {
      throw hostError(e, out);
    }
  },
};

export const remove: Command = {
  name: "delete",
  summary: "delete the file with an id",
  usage: `trove delete --id ID

Deletes the file with this id (to the trash when the volume keeps one).

Example:
  trove delete --id 3f0c…`,
  options: { id: { type: "string" } },
  async run(args) {
    expectArgs(args, 0, 0, "");
    const id = idOf(args.values.id);
    await using s = await openSession(args, { write: true });
    await s.vol.files.delete(id);
    if (args.values.json) printJson({ id, deleted: true });
  },
};

/** The path of the file with id `id`, for `trove stat --id`. */
export async function pathOfId(
  s: { vol: { byId(id: string): Promise<{ path: string }> } },
  id: string,
) {
  if (!id) throw new InvalidArgument("--id needs an id");
  return (await s.vol.byId(id)).path;
}
