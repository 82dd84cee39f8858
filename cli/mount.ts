/**
 * `trove mount`: serves a volume to every program through the kernel
 * (FUSE), until Ctrl-C or SIGTERM unmounts it.
 *
 * @module
 */

import { mount } from "../ffi/mod.ts";
import {
  type Command,
  expectArgs,
  LAYER_OPTION,
  openStore,
  openVolume,
  UsageError,
  withLayers,
} from "./_common.ts";

export const command: Command = {
  name: "mount",
  summary: "mount a volume as a file system (FUSE)",
  usage: `trove mount MOUNTPOINT [--volume NAME] [--at DIR] [--read-only]
            [--allow-other | --private] [--layer STORE]... [--ttl SECONDS]

Mounts the volume (default "default") at MOUNTPOINT, an empty directory,
until Ctrl-C or SIGTERM: then it unmounts, lets open files finish, commits
them and closes the store. A second signal ends the connection at once. A
stale mount left by a killed process is cleared first. Encrypted volumes are
unlocked here (--key-file, --passphrase-file, TROVE_PASSPHRASE or a prompt).

Other processes (trove serve, the CLI) may use the store meanwhile; the
kernel caches what it learns for --ttl seconds (default 1).

A mount by root serves every user, the kernel checking owners and modes as
on a local file system; a mount by another user serves only that user.

Options:
  --at DIR         mount this directory of the volume, not its root
  --layer STORE    a read-only layer under the volume (repeat; the first named
                   is searched first); the volume takes the changes
  --read-only      refuse every change (EROFS)
  --allow-other    let other users use the mount (the default for root;
                   others need user_allow_other in /etc/fuse.conf)
  --private        only the user who mounts may use the mount
  --ttl SECONDS    attribute and entry cache time (default 1)

Examples:
  mkdir -p ~/trove && trove mount ~/trove
  trove mount /mnt/vault --volume vault --key-file vault.key
  trove mount /srv/ro --read-only --allow-other
  trove mount ./site --at /projects/site`,
  options: {
    "read-only": { type: "boolean" },
    "allow-other": { type: "boolean" },
    private: { type: "boolean" },
    at: { type: "string" },
    ...LAYER_OPTION,
    ttl: { type: "string" },
  },
  async run(args) {
    const [mountpoint] = expectArgs(args, 1, 1, "a MOUNTPOINT");
    const readOnly = !!args.values["read-only"];
    const ttl = args.values.ttl === undefined ? 1 : Number(args.values.ttl);
    if (!Number.isFinite(ttl) || ttl < 0) {
      throw new UsageError(`--ttl takes seconds, not ${args.values.ttl}`);
    }
    if (args.values["allow-other"] && args.values.private) {
      throw new UsageError("--allow-other and --private contradict each other");
    }
    await using store = await openStore(args, { readOnly });
    const vol = await openVolume(store, args, { readOnly });
    await using layered = await withLayers(vol, args);
    const m = await mount(layered.fs, mountpoint, {
      readOnly,
      allowOther: args.values["allow-other"] ? true : args.values.private ? false : undefined,
      at: args.values.at as string | undefined,
      ttl,
      storePath: store.path,
    });
    const what = args.values.at !== undefined
      ? `${args.values.at} of volume ${vol.name}`
      : `volume ${vol.name}`;
    console.log(`Trove ${what} of ${store.path} is mounted at ${m.mountpoint}`);
    let signals = 0;
    const stop = () => {
      if (++signals === 1) {
        console.error(`unmounting ${m.mountpoint} (open files finish first; again to force)`);
        m.unmount().catch((e) => console.error(`trove: ${e.message}`));
      } else {
        m.abort().catch(() => {});
      }
    };
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
    try {
      await m.finished;
    } finally {
      Deno.removeSignalListener("SIGINT", stop);
      Deno.removeSignalListener("SIGTERM", stop);
    }
  },
};
