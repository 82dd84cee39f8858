/**
 * Peers measured on the same inputs when they are installed: borg 1.2
 * (zstd,3, no encryption) for the tree ingests.
 */

import { emit, MiB, scratch, since, treeBytes } from "./_util.ts";

/** True when `cmd` runs. */
export async function have(cmd: string, args = ["--version"]): Promise<boolean> {
  try {
    const r = await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output();
    return r.success;
  } catch {
    return false;
  }
}

async function sh(cmd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  const err = new TextDecoder().decode(r.stderr);
  if (!r.success) throw new Error(`${cmd} ${args.join(" ")}: ${err}`);
  return err;
}

/** borg create of tree1 then tree2 into one repository. */
export async function borgTrees(t1: string, t2: string): Promise<void> {
  const repo = await scratch("borg-repo");
  const env = {
    BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: "yes",
    BORG_RELOCATED_REPO_ACCESS_IS_OK: "yes",
    BORG_BASE_DIR: repo + "-base",
  };
  await Deno.remove(env.BORG_BASE_DIR, { recursive: true }).catch(() => {});
  await sh("borg", ["init", "--encryption=none", repo], env);
  const timeBin = await have("/usr/bin/time", ["-f", "%M", "true"]);
  let logical = 0;
  for (const [i, dir] of [[1, t1], [2, t2]] as const) {
    const bytes = await treeBytes(dir);
    logical += bytes;
    const t0 = performance.now();
    const args = ["create", "--compression", "zstd,3", `${repo}::ingest${i}`, dir];
    const err = timeBin
      ? await sh("/usr/bin/time", ["-f", "%M", "borg", ...args], env)
      : await sh("borg", args, env);
    const secs = since(t0);
    const stored = await treeBytes(repo);
    const c = `ingest ${i} of ${Math.round(bytes / MiB)} MiB tree`;
    emit({
      bench: "tree ingest",
      case: c,
      system: "borg",
      value: bytes / MiB / secs,
      unit: "MB/s",
    });
    emit({
      bench: "tree stored",
      case: `after ingest ${i}`,
      system: "borg",
      value: stored / MiB,
      unit: "MiB",
    });
    if (i === 2) {
      emit({
        bench: "tree logical / stored",
        case: "both ingests",
        system: "borg",
        value: logical / stored,
        unit: "ratio",
      });
    }
    const kib = Number(err.trim().split("\n").pop());
    if (timeBin && Number.isFinite(kib)) {
      emit({
        bench: "peak RSS",
        case: `tree ingest ${i}`,
        system: "borg",
        value: kib / 1024,
        unit: "MiB",
      });
    }
  }
  await Deno.remove(repo, { recursive: true }).catch(() => {});
  await Deno.remove(env.BORG_BASE_DIR, { recursive: true }).catch(() => {});
}
