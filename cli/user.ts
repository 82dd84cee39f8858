/**
 * `trove user add|remove|list`: who may use the WebDAV server.
 *
 * @module
 */

import { type Command, openStore, printJson, promptSecret, table, UsageError } from "./_common.ts";

export const command: Command = {
  name: "user",
  summary: "add, remove and list WebDAV users",
  usage: `trove user add NAME [--read-only] [--admin] [--password-file FILE]
trove user remove NAME
trove user list [--json]

The password comes from --password-file FILE, TROVE_PASSWORD, or a no-echo
prompt; it has at least 8 characters. Passwords are kept as Argon2id
hashes. With users in the store, the WebDAV server asks every client to
log in (HTTP Basic; use HTTPS off loopback).

Options:
  --read-only            the user may only read
  --admin                the user may use the admin API (/.trove/api)
  --password-file FILE   read the password from FILE ("-" for stdin)

Examples:
  trove user add alice --admin
  trove user add guest --read-only --password-file guest.pass
  trove user list --json`,
  options: {
    "read-only": { type: "boolean" },
    admin: { type: "boolean" },
    "password-file": { type: "string" },
  },
  async run(args) {
    const [verb, name, ...extra] = args.positionals;
    if (extra.length > 0) throw new UsageError(`unexpected ${extra[0]}`);
    if (verb === "list") {
      await using store = await openStore(args, { readOnly: true });
      const users = await store.users.list();
      if (args.values.json) printJson(users);
      else {
        console.log(table([
          ["NAME", "ACCESS", "ADMIN", "CREATED"],
          ...users.map((
            u,
          ) => [
            u.name,
            u.readOnly ? "read-only" : "read-write",
            u.admin ? "yes" : "no",
            u.created.toISOString(),
          ]),
        ]));
      }
      return;
    }
    if (!name) throw new UsageError(`user ${verb ?? ""} needs a NAME`);
    await using store = await openStore(args, { create: verb === "add" });
    if (verb === "add") {
      const file = args.values["password-file"] as string | undefined;
      const password = file
        ? (file === "-"
          ? await new Response(Deno.stdin.readable).text()
          : await Deno.readTextFile(file))
          .replace(/\r?\n$/, "")
        : Deno.env.get("TROVE_PASSWORD") ??
          await promptSecret(
            `password for ${name}: `,
            "no password given: use --password-file FILE, TROVE_PASSWORD, or a terminal",
          );
      const u = await store.users.add(name, password, {
        readOnly: !!args.values["read-only"],
        admin: !!args.values.admin,
      });
      if (args.values.json) printJson(u);
      else console.log(`added user ${u.name}`);
    } else if (verb === "remove") {
      await store.users.remove(name);
      if (!args.values.json) console.log(`removed user ${name}`);
    } else {
      throw new UsageError(`unknown user command ${verb}`);
    }
  },
};
