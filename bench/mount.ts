/**
 * Kernel-mount benchmarks: Trove (plain and encrypted) beside gocryptfs and
 * tmpfs, with the same client programs in one run. All backing files live
 * on one tmpfs when this runs as root (as the gocryptfs reference figure
 * was measured), else in .bench/.
 *
 *   deno run ... bench/mount.ts [--quick]
 *
 * Rows: 1 GiB sequential write and read (fio, fresh random buffers so
 * dedup cannot help; caches dropped before the read), random 4 KiB reads
 * and writes (fio, IOPS), creating and stat-ing 10,000 small files (a
 * client process), `ls -l` of that directory, and the mount's peak RSS.
 */

import { parseArgs } from "node:util";
import { emit, scratch, TASK_V8_FLAGS } from "./_util.ts";
import { have } from "./peers.ts";

const { values } = parseArgs({ args: Deno.args, options: { quick: { type: "boolean" } } });
const quick = !!values.quick;
const SEQ_MIB = quick ? 256 : 1024;
const FILES = quick ? 2000 : 10000;
const RAND_SECONDS = quick ? 3 : 8;
const ROOT = new URL("../", import.meta.url).pathname;
const isRoot = Deno.uid() === 0;

interface Target {
  system: string;
  dir: string;
  /** PID of the serving process, for its peak RSS. */
  pid?: number;
  stop(): Promise<void>;
}

async function run(cmd: string, args: string[], env?: Record<string, string>): Promise<string> {
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return text;
}

async function dropCaches(): Promise<void> {
  if (!isRoot) return;
  // Deno wants --allow-all for /proc/sys; a shell may write it.
  await run("sh", ["-c", "sync && echo 3 > /proc/sys/vm/drop_caches"]).catch(() => {});
}

async function fio(dir: string, name: string, args: string[]): Promise<Record<string, number>> {
  const text = await run("fio", [
    `--name=${name}`,
    `--directory=${dir}`,
    "--ioengine=psync",
    "--output-format=json",
    ...args,
  ]);
  const job = JSON.parse(text.slice(text.indexOf("{"))).jobs[0];
  return {
    readBw: job.read.bw_bytes,
    writeBw: job.write.bw_bytes,
    readIops: job.read.iops,
    writeIops: job.write.iops,
  };
}

let peak = 0;
let sampler: ReturnType<typeof setInterval> | undefined;
function sampleRss(pid: number | undefined): void {
  peak = 0;
  clearInterval(sampler);
  if (!pid) return;
  sampler = setInterval(async () => {
    const out = await new Deno.Command("ps", {
      args: ["-o", "rss=", "-p", String(pid)],
      stdout: "piped",
    })
      .output();
    peak = Math.max(peak, Number(new TextDecoder().decode(out.stdout).trim()) || 0);
  }, 100);
}

async function measure(t: Target): Promise<void> {
  const row = (bench: string, kase: string, value: number, unit: string) =>
    emit({ bench: `mount ${bench}`, case: kase, system: t.system, value, unit });
  sampleRss(t.pid);
  try {
    const seq = `${SEQ_MIB} MiB`;
    const w = await fio(t.dir, "seq", [
      "--rw=write",
      "--bs=1M",
      `--size=${SEQ_MIB}M`,
      "--refill_buffers",
      "--end_fsync=1",
    ]);
    row("sequential write", seq, w.writeBw / 1e6, "MB/s");
    await dropCaches();
    const r = await fio(t.dir, "seq", ["--rw=read", "--bs=1M", `--size=${SEQ_MIB}M`]);
    row("sequential read", seq, r.readBw / 1e6, "MB/s");
    await dropCaches();
    const rr = await fio(t.dir, "seq", [
      "--rw=randread",
      "--bs=4k",
      `--size=${SEQ_MIB}M`,
      `--runtime=${RAND_SECONDS}`,
      "--time_based",
    ]);
    row("random 4 KiB reads", `in ${seq}`, rr.readIops, "IOPS");
    const rw = await fio(t.dir, "rand", [
      "--rw=randwrite",
      "--bs=4k",
      "--size=256M",
      "--refill_buffers",
      `--runtime=${RAND_SECONDS}`,
      "--time_based",
      "--end_fsync=1",
    ]);
    row("random 4 KiB writes", "in 256 MiB", rw.writeIops, "IOPS");
    await Deno.remove(`${t.dir}/seq.0.0`).catch(() => {});
    await Deno.remove(`${t.dir}/rand.0.0`).catch(() => {});

    const client = async (op: string) => {
      const out = await run(Deno.execPath(), [
        "run",
        "--allow-read",
        "--allow-write",
        `${ROOT}bench/mount_client.ts`,
        op,
        String(FILES),
        `${t.dir}/small`,
      ]);
      return JSON.parse(out).perSecond as number;
    };
    const files = `${FILES.toLocaleString("en-US")} × 4 KiB`;
    row("small files create", files, await client("create"), "files/s");
    await dropCaches();
    row("small files stat", files, await client("stat"), "files/s");
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      await dropCaches();
      const t0 = performance.now();
      await run("bash", ["-c", `ls -l '${t.dir}/small' > /dev/null`]);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    row("ls -l", `${FILES.toLocaleString("en-US")} entries`, times[1], "ms");
    if (t.pid) row("peak RSS", "whole run", peak / 1024, "MiB");
  } finally {
    clearInterval(sampler);
    await t.stop();
  }
}

async function backing(): Promise<{ dir: string; done(): Promise<void> }> {
  const dir = await scratch("mount-backing");
  await Deno.mkdir(dir, { recursive: true });
  if (!isRoot) return { dir, done: async () => {} };
  await run("mount", ["-t", "tmpfs", "-o", `size=${quick ? 3 : 6}g`, "trove-bench", dir]);
  return { dir, done: () => run("umount", ["-l", dir]).then(() => {}) };
}

async function waitMounted(mnt: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const r = await new Deno.Command("mountpoint", { args: ["-q", mnt] }).output();
    if (r.success) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${mnt} did not mount`);
}

async function trove(base: string, encrypted: boolean): Promise<Target> {
  const name = encrypted ? "trove-enc" : "trove";
  const store = `${base}/${name}.trove`;
  const mnt = `${base}/${name}-mnt`;
  await Deno.mkdir(mnt, { recursive: true });
  const env = { TROVE_PASSPHRASE: "benchmark passphrase" };
  const cli = (...args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", ...TASK_V8_FLAGS, "-A", `${ROOT}cli/main.ts`, ...args, "--store", store],
      env,
      stdout: "null",
      stderr: "inherit",
    });
  await cli("init", ...(encrypted ? ["--encrypt"] : [])).output();
  const child = cli("mount", mnt).spawn();
  await waitMounted(mnt);
  return {
    system: encrypted ? "trove (encrypted)" : "trove",
    dir: mnt,
    pid: child.pid,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

async function gocryptfs(base: string): Promise<Target | null> {
  if (!(await have("gocryptfs", ["-version"]))) {
    console.error("note: gocryptfs is not installed; its figures are left out");
    return null;
  }
  const cipher = `${base}/gocryptfs-cipher`;
  const mnt = `${base}/gocryptfs-mnt`;
  await Deno.mkdir(cipher, { recursive: true });
  await Deno.mkdir(mnt, { recursive: true });
  await run("gocryptfs", ["-init", "-q", "-extpass", "echo benchmark", "-scryptn", "10", cipher]);
  await run("gocryptfs", ["-q", "-extpass", "echo benchmark", cipher, mnt]);
  await waitMounted(mnt);
  const pid = Number((await run("pgrep", ["-n", "gocryptfs"])).trim()) || undefined;
  return {
    system: "gocryptfs",
    dir: mnt,
    pid,
    async stop() {
      await run("fusermount3", ["-u", mnt]).catch(() => run("fusermount3", ["-u", "-z", mnt]));
    },
  };
}

if (!(await have("fio"))) {
  console.error("note: fio is not installed (apt install fio); the mount benchmarks need it");
  Deno.exit(0);
}
const b = await backing();
try {
  await measure(await trove(b.dir, false));
  await measure(await trove(b.dir, true));
  const g = await gocryptfs(b.dir);
  if (g) await measure(g);
  await Deno.mkdir(`${b.dir}/tmpfs`, { recursive: true });
  await measure({
    system: isRoot ? "tmpfs" : "host directory",
    dir: `${b.dir}/tmpfs`,
    stop: async () => {},
  });
} finally {
  await b.done();
}
