/**
 * A POSIX scenario suite in the spirit of go-fuse's posixtest: each
 * scenario works in a fresh directory and returns what it observed
 * (contents, sizes, link counts, errno names). posix_test.ts runs every
 * scenario on a Trove mount and on tmpfs and requires the same results.
 */

import { randomBytes } from "./_helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** An error as its errno name (from the OS error number), or the value. */
export async function outcome<T>(fn: () => Promise<T> | T): Promise<T | string> {
  try {
    return await fn();
  } catch (e) {
    const m = String((e as Error).message).match(/os error (\d+)/);
    if (m) return `errno ${ERRNO[Number(m[1])] ?? m[1]}`;
    return `error ${(e as Error).name}`;
  }
}

const ERRNO: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  9: "EBADF",
  13: "EACCES",
  17: "EEXIST",
  18: "EXDEV",
  20: "ENOTDIR",
  21: "EISDIR",
  22: "EINVAL",
  28: "ENOSPC",
  30: "EROFS",
  36: "ENAMETOOLONG",
  39: "ENOTEMPTY",
  40: "ELOOP",
  61: "ENODATA",
  95: "EOPNOTSUPP",
};

let libc:
  | Deno.DynamicLibrary<{
    renameat2: { parameters: ["i32", "buffer", "i32", "buffer", "u32"]; result: "i32" };
    __errno_location: { parameters: []; result: "pointer" };
  }>
  | null = null;

/** renameat2(2): 0, or the errno name. */
export function renameat2(from: string, to: string, flags: number): string | number {
  libc ??= Deno.dlopen("libc.so.6", {
    renameat2: { parameters: ["i32", "buffer", "i32", "buffer", "u32"], result: "i32" },
    __errno_location: { parameters: [], result: "pointer" },
  });
  const c = (s: string) => enc.encode(s + "\0");
  const r = libc.symbols.renameat2(-100, c(from), -100, c(to), flags);
  if (r === 0) return 0;
  const errno = new Deno.UnsafePointerView(libc.symbols.__errno_location()!).getInt32();
  return `errno ${ERRNO[errno] ?? errno}`;
}

async function read(path: string): Promise<string | string> {
  return await outcome(() => Deno.readTextFile(path));
}

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

async function digest(b: Uint8Array): Promise<string> {
  const h = await crypto.subtle.digest("SHA-256", b as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(h).slice(0, 8)).map((x) => x.toString(16).padStart(2, "0"))
    .join("");
}

/** Each scenario gets an empty directory and returns its observations. */
export const scenarios: Record<string, (d: string) => Promise<unknown>> = {
  async "rename over an existing file"(d) {
    await Deno.writeTextFile(`${d}/a`, "A");
    await Deno.writeTextFile(`${d}/b`, "B");
    const before = (await Deno.stat(`${d}/a`)).ino;
    await Deno.rename(`${d}/a`, `${d}/b`);
    return {
      b: await read(`${d}/b`),
      a: await outcome(() => Deno.stat(`${d}/a`).then(() => "exists")),
      sameInode: (await Deno.stat(`${d}/b`)).ino === before,
      names: await names(d),
    };
  },

  async "fstat, read and write after delete"(d) {
    const f = await Deno.open(`${d}/f`, { read: true, write: true, create: true });
    await f.write(enc.encode("hello"));
    await Deno.remove(`${d}/f`);
    const st = await f.stat();
    await f.write(enc.encode(" world"));
    await f.seek(0, Deno.SeekMode.Start);
    const buf = new Uint8Array(32);
    const n = await f.read(buf);
    const st2 = await f.stat();
    f.close();
    return {
      nlink: st.nlink,
      size: st.size,
      content: dec.decode(buf.subarray(0, n ?? 0)),
      size2: st2.size,
      listed: await names(d),
    };
  },

  async "nlink after link and unlink"(d) {
    await Deno.writeTextFile(`${d}/f`, "x");
    await Deno.link(`${d}/f`, `${d}/g`);
    const two = [(await Deno.stat(`${d}/f`)).nlink, (await Deno.stat(`${d}/g`)).nlink];
    const sameIno = (await Deno.stat(`${d}/f`)).ino === (await Deno.stat(`${d}/g`)).ino;
    await Deno.writeTextFile(`${d}/g`, "changed via g");
    const viaF = await read(`${d}/f`);
    await Deno.remove(`${d}/f`);
    const one = (await Deno.stat(`${d}/g`)).nlink;
    const dirLink = await outcome(() => Deno.link(d, `${d}/dirlink`));
    return { two, sameIno, viaF, one, dirLink, g: await read(`${d}/g`) };
  },

  async "append"(d) {
    await Deno.writeTextFile(`${d}/log`, "one\n");
    const f = await Deno.open(`${d}/log`, { append: true });
    await f.write(enc.encode("two\n"));
    await f.seek(0, Deno.SeekMode.Start);
    await f.write(enc.encode("three\n"));
    f.close();
    await Deno.writeTextFile(`${d}/log`, "four\n", { append: true });
    return { content: await read(`${d}/log`), size: (await Deno.stat(`${d}/log`)).size };
  },

  async "truncate up and down"(d) {
    await Deno.writeTextFile(`${d}/t`, "0123456789");
    await Deno.truncate(`${d}/t`, 4);
    const down = await read(`${d}/t`);
    await Deno.truncate(`${d}/t`, 12);
    const up = Array.from(await Deno.readFile(`${d}/t`));
    const f = await Deno.open(`${d}/t`, { write: true });
    await f.truncate(2);
    f.close();
    const big = randomBytes(3 << 20, 1);
    await Deno.writeFile(`${d}/big`, big);
    await Deno.truncate(`${d}/big`, (1 << 20) + 7);
    const cut = await Deno.readFile(`${d}/big`);
    await Deno.truncate(`${d}/big`, 2 << 20);
    const grown = await Deno.readFile(`${d}/big`);
    return {
      down,
      up,
      two: await read(`${d}/t`),
      cut: [cut.length, await digest(cut), await digest(big.subarray(0, (1 << 20) + 7))],
      grownZeros: grown.subarray((1 << 20) + 7).every((b) => b === 0),
      grownSize: grown.length,
    };
  },

  async "sparse writes and overwrites across chunk boundaries"(d) {
    const f = await Deno.open(`${d}/s`, { write: true, create: true, read: true });
    await f.seek((1 << 20) + 5, Deno.SeekMode.Start);
    await f.write(enc.encode("tail"));
    await f.seek(100, Deno.SeekMode.Start);
    await f.write(enc.encode("early"));
    f.close();
    const s = await Deno.readFile(`${d}/s`);
    const data = randomBytes(3 << 20, 2);
    await Deno.writeFile(`${d}/o`, data);
    const g = await Deno.open(`${d}/o`, { write: true });
    await g.seek((1 << 20) - 50, Deno.SeekMode.Start);
    const patch = randomBytes(100, 3);
    await g.write(patch);
    g.close();
    data.set(patch, (1 << 20) - 50);
    return {
      size: s.length,
      early: dec.decode(s.subarray(100, 105)),
      tail: dec.decode(s.subarray((1 << 20) + 5)),
      zeros: s.subarray(0, 100).every((b) => b === 0) &&
        s.subarray(105, (1 << 20) + 5).every((b) => b === 0),
      patched: (await digest(await Deno.readFile(`${d}/o`))) === (await digest(data)),
    };
  },

  async "readdir while deleting"(d) {
    for (let i = 0; i < 300; i++) await Deno.writeTextFile(`${d}/f${i}`, String(i));
    const seen = new Set<string>();
    let repeats = 0;
    for await (const e of Deno.readDir(d)) {
      if (seen.has(e.name)) repeats++;
      seen.add(e.name);
      await Deno.remove(`${d}/${e.name}`);
    }
    return { seen: seen.size, repeats, left: (await names(d)).length };
  },

  async "exclusive create"(d) {
    const first = await outcome(async () => {
      (await Deno.open(`${d}/x`, { write: true, createNew: true })).close();
      return "created";
    });
    const second = await outcome(async () => {
      (await Deno.open(`${d}/x`, { write: true, createNew: true })).close();
      return "created";
    });
    await Deno.symlink("nowhere", `${d}/dangling`);
    const throughLink = await outcome(async () => {
      (await Deno.open(`${d}/dangling`, { write: true, createNew: true })).close();
      return "created";
    });
    return { first, second, throughLink };
  },

  async "rename of directories"(d) {
    await Deno.mkdir(`${d}/a/inner`, { recursive: true });
    await Deno.writeTextFile(`${d}/a/inner/f`, "f");
    await Deno.mkdir(`${d}/empty`);
    await Deno.mkdir(`${d}/full`);
    await Deno.writeTextFile(`${d}/full/x`, "x");
    await Deno.writeTextFile(`${d}/file`, "file");
    const overEmpty = await outcome(() => Deno.rename(`${d}/a`, `${d}/empty`).then(() => 0));
    const overFull = await outcome(() => Deno.rename(`${d}/empty`, `${d}/full`).then(() => 0));
    const fileOverDir = await outcome(() => Deno.rename(`${d}/file`, `${d}/full`).then(() => 0));
    const dirOverFile = await outcome(() => Deno.rename(`${d}/full`, `${d}/file`).then(() => 0));
    const intoItself = await outcome(() =>
      Deno.rename(`${d}/empty`, `${d}/empty/inner/deeper`).then(() => 0)
    );
    return {
      overEmpty,
      moved: await read(`${d}/empty/inner/f`),
      overFull,
      fileOverDir,
      dirOverFile,
      intoItself,
      names: await names(d),
    };
  },

  async "renameat2 noreplace and exchange"(d) {
    await Deno.writeTextFile(`${d}/a`, "A");
    await Deno.writeTextFile(`${d}/b`, "B");
    await Deno.mkdir(`${d}/dir`);
    const noReplace = renameat2(`${d}/a`, `${d}/b`, 1);
    const noReplaceFree = renameat2(`${d}/a`, `${d}/c`, 1);
    const exchange = renameat2(`${d}/c`, `${d}/b`, 2);
    const exchangeDir = renameat2(`${d}/b`, `${d}/dir`, 2);
    const exchangeMissing = renameat2(`${d}/nope`, `${d}/b`, 2);
    return {
      noReplace,
      noReplaceFree,
      exchange,
      exchangeDir,
      exchangeMissing,
      b: await outcome(() => Deno.stat(`${d}/b`).then((s) => s.isDirectory ? "dir" : "file")),
      dir: await read(`${d}/dir`),
      c: await read(`${d}/c`),
    };
  },

  async "errors of directory operations"(d) {
    await Deno.mkdir(`${d}/dir`);
    await Deno.writeTextFile(`${d}/dir/f`, "f");
    return {
      mkdirExisting: await outcome(() => Deno.mkdir(`${d}/dir`).then(() => 0)),
      rmdirFull: await outcome(() => Deno.remove(`${d}/dir`).then(() => 0)),
      readDirAsFile: await outcome(() => Deno.readFile(`${d}/dir`).then(() => 0)),
      writeDir: await outcome(() => Deno.writeTextFile(`${d}/dir`, "x").then(() => 0)),
      notADir: await outcome(() => Deno.writeTextFile(`${d}/dir/f/g`, "x").then(() => 0)),
      missingParent: await outcome(() => Deno.writeTextFile(`${d}/nope/g`, "x").then(() => 0)),
      longName: await outcome(() =>
        Deno.writeTextFile(`${d}/${"n".repeat(256)}`, "x").then(() => 0)
      ),
      name255: await outcome(() =>
        Deno.writeTextFile(`${d}/${"n".repeat(255)}`, "x").then(() => 0)
      ),
    };
  },

  async "symlinks"(d) {
    await Deno.mkdir(`${d}/real`);
    await Deno.writeTextFile(`${d}/real/file`, "through a link");
    await Deno.symlink("real", `${d}/link`);
    await Deno.symlink("loop2", `${d}/loop1`);
    await Deno.symlink("loop1", `${d}/loop2`);
    const l = await Deno.lstat(`${d}/link`);
    return {
      target: await Deno.readLink(`${d}/link`),
      lsize: l.size,
      isSymlink: l.isSymlink,
      viaLink: await read(`${d}/link/file`),
      loop: await outcome(() => Deno.readTextFile(`${d}/loop1`)),
      realPath: (await Deno.realPath(`${d}/link/file`)).endsWith("/real/file"),
    };
  },

  async "modes and times"(d) {
    await Deno.writeTextFile(`${d}/f`, "x");
    await Deno.chmod(`${d}/f`, 0o640);
    const t = new Date("2001-02-03T04:05:06.789Z");
    await Deno.utime(`${d}/f`, t, t);
    await Deno.mkdir(`${d}/sub`, { mode: 0o700 });
    const st = await Deno.stat(`${d}/f`);
    const dir = await Deno.stat(`${d}/sub`);
    const before = (await Deno.stat(d)).mtime!.getTime();
    await new Promise((r) => setTimeout(r, 20));
    await Deno.writeTextFile(`${d}/new`, "n");
    const after = (await Deno.stat(d)).mtime!.getTime();
    return {
      mode: (st.mode! & 0o7777).toString(8),
      mtime: st.mtime!.toISOString(),
      atime: st.atime!.toISOString(),
      dirMode: (dir.mode! & 0o7777).toString(8),
      dirNlink: dir.nlink,
      parentMtimeMoved: after > before,
    };
  },

  async "a large file written in odd pieces reads back whole"(d) {
    const data = randomBytes((5 << 20) + 12345, 4);
    const f = await Deno.open(`${d}/big`, { write: true, create: true });
    for (let i = 0; i < data.length;) {
      const n = Math.min(data.length - i, 70001);
      await f.write(data.subarray(i, i + n));
      i += n;
    }
    f.close();
    const back = await Deno.readFile(`${d}/big`);
    const r = await Deno.open(`${d}/big`);
    await r.seek(3 << 20, Deno.SeekMode.Start);
    const piece = new Uint8Array(4096);
    await r.read(piece);
    r.close();
    return {
      size: back.length,
      same: (await digest(back)) === (await digest(data)),
      piece: (await digest(piece)) === (await digest(data.subarray(3 << 20, (3 << 20) + 4096))),
    };
  },
};
