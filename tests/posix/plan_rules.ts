/**
 * POSIX scenarios beyond one-per-type: times (what each operation marks
 * for update), utimensat with UTIME_NOW and UTIME_OMIT and its permission
 * rules, set-ID bits cleared on write, name and path lengths, symlink
 * loops, device numbers, and the errno of each misuse (O_EXCL, O_TRUNC
 * without write permission, ftruncate on a read-only descriptor, ...).
 */

import { ROOT, type Step, U1, U2, type Who } from "./plan.ts";

const name = (n: number, c = "x") => c.repeat(n);

/** A path of `total` bytes: directories of 127-byte names, then a file name. */
function deepPath(total: number): { dirs: string[]; file: string } {
  const dirs: string[] = [];
  let path = "";
  while (total - path.length > 128 + 1) {
    path += (path ? "/" : "") + name(127, String.fromCharCode(97 + dirs.length % 26));
    dirs.push(path);
  }
  return { dirs, file: `${path}/${name(total - path.length - 1, "f")}` };
}

function timeScenarios(): Record<string, Step[]> {
  const w = (who: Who, op: string, ...a: string[]): Step => [who, op, ...a];
  return {
    "times: write marks mtime and ctime; reading and opening do not": [
      w(ROOT, "create", "f", "0644"),
      w(ROOT, "mark", "f"),
      w(ROOT, "write", "f", "abc"),
      w(ROOT, "changed", "f"),
      w(ROOT, "mark", "f"),
      w(ROOT, "read", "f"),
      w(ROOT, "open", "f", "O_RDWR"),
      w(ROOT, "changed", "f"),
      w(ROOT, "lstat", "f", "size"),
    ],
    "times: truncate, to the same size too": [
      w(ROOT, "create", "f", "0644"),
      w(ROOT, "write", "f", "abcdef"),
      w(ROOT, "mark", "f"),
      w(ROOT, "truncate", "f", "6"),
      w(ROOT, "changed", "f"),
      w(ROOT, "mark", "f"),
      w(ROOT, "truncate", "f", "2"),
      w(ROOT, "changed", "f"),
      w(ROOT, "read", "f"),
      w(ROOT, "mark", "f"),
      w(ROOT, "ftruncate", "f", "O_WRONLY", "2"),
      w(ROOT, "changed", "f"),
      w(ROOT, "ftruncate", "f", "O_WRONLY", "5"),
      w(ROOT, "lstat", "f", "size"),
    ],
    "times: O_TRUNC marks mtime and ctime, O_CREAT of an existing file does not": [
      w(ROOT, "create", "f", "0644"),
      w(ROOT, "write", "f", "test\n"),
      w(ROOT, "mark", "f"),
      w(ROOT, "mark", "."),
      w(ROOT, "open", "f", "O_WRONLY,O_TRUNC"),
      w(ROOT, "changed", "f"),
      w(ROOT, "lstat", "f", "size"),
      w(ROOT, "mark", "f"),
      w(ROOT, "open", "f", "O_CREAT,O_RDONLY", "0644"),
      w(ROOT, "changed", "f"),
      w(ROOT, "changed", "."),
      w(ROOT, "open", "g", "O_CREAT,O_WRONLY", "0640"),
      w(ROOT, "changed", "."),
      w(ROOT, "lstat", "g", "type,mode"),
    ],
    "times: mkdir, rmdir, unlink and symlink mark the parent": [
      w(ROOT, "mark", "."),
      w(ROOT, "mkdir", "d", "0755"),
      w(ROOT, "changed", "."),
      w(ROOT, "lstat", ".", "nlink"),
      w(ROOT, "mark", "."),
      w(ROOT, "symlink", "d", "l"),
      w(ROOT, "changed", "."),
      w(ROOT, "mark", "."),
      w(ROOT, "unlink", "l"),
      w(ROOT, "changed", "."),
      w(ROOT, "mark", "."),
      w(ROOT, "rmdir", "d"),
      w(ROOT, "changed", "."),
      w(ROOT, "lstat", ".", "nlink"),
    ],
    "utimensat: explicit times, sub-second, before 1970 and past 2038": [
      w(ROOT, "create", "f", "0644"),
      w(ROOT, "utimensat", "f", "1000000000.123456789", "2000000000.5"),
      w(ROOT, "lstat", "f", "atime,mtime"),
      w(ROOT, "utimensat", "f", "2147483648", "4294967296"),
      w(ROOT, "lstat", "f", "atime,mtime"),
      w(ROOT, "utimensat", "f", "-86400", "-1.5"),
      w(ROOT, "lstat", "f", "atime,mtime"),
      w(ROOT, "mark", "f"),
      w(ROOT, "utimensat", "f", "omit", "1"),
      w(ROOT, "changed", "f"),
      w(ROOT, "lstat", "f", "atime,mtime"),
      w(ROOT, "utimensat", "f", "7", "omit"),
      w(ROOT, "lstat", "f", "atime,mtime"),
      w(ROOT, "symlink", "f", "l"),
      w(ROOT, "utimensat", "l", "100", "200", "nofollow"),
      w(ROOT, "lstat", "l", "atime,mtime"),
      w(ROOT, "lstat", "f", "atime,mtime"),
    ],
    "utimensat: UTIME_NOW and UTIME_OMIT": [
      w(ROOT, "create", "f", "0644"),
      w(ROOT, "utimensat", "f", "100", "200"),
      w(ROOT, "mark", "f"),
      w(ROOT, "utimensat", "f", "omit", "omit"),
      w(ROOT, "changed", "f"),
      w(ROOT, "utimensat", "f", "now", "omit"),
      w(ROOT, "lstat", "f", "mtime"),
      w(ROOT, "changed", "f"),
      w(ROOT, "mark", "f"),
      w(ROOT, "utimensat", "f", "omit", "now"),
      w(ROOT, "changed", "f"),
    ],
    "utimensat: who may set which times": [
      w(ROOT, "mkdir", "d", "0777"),
      w(ROOT, "create", "rw", "0666"),
      w(ROOT, "create", "ro", "0644"),
      w(U1, "create", "d/mine", "0444"),
      w(U1, "utimensat", "rw", "now", "now"),
      w(U1, "touch_null", "rw"),
      w(U1, "utimensat", "rw", "10", "20"),
      w(U1, "utimensat", "rw", "omit", "now"),
      w(U1, "utimensat", "rw", "now", "omit"),
      w(U1, "utimensat", "ro", "now", "now"),
      w(U1, "touch_null", "ro"),
      w(U1, "utimensat", "ro", "10", "20"),
      w(U1, "utimensat", "ro", "omit", "omit"),
      w(U1, "utimensat", "d/mine", "10", "20"),
      w(U1, "touch_null", "d/mine"),
      w(U1, "lstat", "d/mine", "atime,mtime"),
      w(U2, "utimensat", "d/mine", "now", "now"),
    ],
  };
}

function setIdScenarios(): Record<string, Step[]> {
  const out: Record<string, Step[]> = {};
  // Not 02767: for set-group-ID without group execute, Linux clears the bit on
  // a write by a non-member, and the FUSE kernel module (without
  // handle_killpriv_v2) does not tell a file system to.
  for (const mode of ["04777", "02777", "06777", "04755"]) {
    out[`a write by another user clears set-ID bits (${mode})`] = [
      [ROOT, "create", "f", "0644"],
      [ROOT, "chmod", "f", mode],
      [U1, "open_write", "f", "O_WRONLY", "x", "mode"],
      [ROOT, "lstat", "f", "mode,size"],
      [ROOT, "chmod", "f", mode],
      [ROOT, "write", "f", "y"],
      [ROOT, "lstat", "f", "mode"],
      [U1, "truncate", "f", "0"],
      [ROOT, "lstat", "f", "mode,size"],
    ];
  }
  return out;
}

function nameScenarios(): Record<string, Step[]> {
  const n255 = name(255);
  const n256 = name(256);
  const deep = deepPath(4095);
  const tooDeep = deepPath(4096);
  return {
    "names: 255 bytes accepted, 256 refused with ENAMETOOLONG": [
      [ROOT, "create", n255, "0644"],
      [ROOT, "lstat", n255, "type"],
      [ROOT, "rename", n255, "short"],
      [ROOT, "link", "short", n255],
      [ROOT, "unlink", n255],
      [ROOT, "symlink", "short", n255],
      [ROOT, "unlink", n255],
      [ROOT, "mkdir", n255, "0755"],
      [ROOT, "rmdir", n255],
      [ROOT, "mkfifo", n255, "0644"],
      [ROOT, "unlink", n255],
      [ROOT, "create", n256, "0644"],
      [ROOT, "mkdir", n256, "0755"],
      [ROOT, "mkfifo", n256, "0644"],
      [ROOT, "symlink", "short", n256],
      [ROOT, "link", "short", n256],
      [ROOT, "rename", "short", n256],
      [ROOT, "lstat", n256, "type"],
      [ROOT, "unlink", n256],
      [ROOT, "readdir", "."],
    ],
    "names: a symlink target up to PATH_MAX, paths up to PATH_MAX": [
      [ROOT, "symlink", name(4095, "t"), "long"],
      [ROOT, "lstat", "long", "type,size"],
      [ROOT, "symlink", name(4096, "t"), "longer"],
      ...deep.dirs.map((d): Step => [ROOT, "mkdir", d, "0755"]),
      [ROOT, "create", deep.file, "0644"],
      [ROOT, "lstat", deep.file, "type"],
      [ROOT, "unlink", deep.file],
      [ROOT, "create", tooDeep.file, "0644"],
      ...deep.dirs.toReversed().map((d): Step => [ROOT, "rmdir", d]),
    ],
    "names: symlink loops give ELOOP": [
      [ROOT, "symlink", "b", "a"],
      [ROOT, "symlink", "a", "b"],
      [ROOT, "stat", "a", "type"],
      [ROOT, "open", "a", "O_RDONLY"],
      [ROOT, "open", "a", "O_CREAT,O_WRONLY", "0644"],
      [ROOT, "create", "f", "0644"],
      [ROOT, "symlink", "f", "l"],
      [ROOT, "open", "l", "O_RDONLY,O_NOFOLLOW"],
      [ROOT, "stat", "a/x", "type"],
    ],
  };
}

function errorScenarios(): Record<string, Step[]> {
  return {
    "errors: open and truncate misuse": [
      [ROOT, "create", "f", "0644"],
      [ROOT, "open", "f", "O_CREAT,O_EXCL,O_WRONLY", "0644"],
      [U1, "open", "f", "O_RDONLY,O_TRUNC"],
      [U1, "open", "f", "O_WRONLY"],
      [U1, "truncate", "f", "0"],
      [ROOT, "ftruncate", "f", "O_RDONLY", "0"],
      [ROOT, "mkdir", "d", "0755"],
      [ROOT, "truncate", "d", "0"],
      [ROOT, "open", "d", "O_WRONLY"],
      [ROOT, "open", "d", "O_RDONLY,O_DIRECTORY"],
      [ROOT, "open", "f", "O_RDONLY,O_DIRECTORY"],
      [ROOT, "open", "f/x", "O_RDONLY"],
      [ROOT, "open", "missing", "O_RDONLY"],
      [ROOT, "create", "d/../f", "0644"],
      [ROOT, "truncate", "f", "-1"],
    ],
    "errors: directory misuse": [
      [ROOT, "mkdir", "d", "0755"],
      [ROOT, "mkdir", "d/sub", "0755"],
      [ROOT, "mkdir", "e", "0755"],
      [ROOT, "create", "e/f", "0644"],
      [ROOT, "create", "f", "0644"],
      [ROOT, "mkdir", "d", "0755"],
      [ROOT, "unlink", "d"],
      [ROOT, "rmdir", "f"],
      [ROOT, "rmdir", "d"],
      [ROOT, "rmdir", "d/sub/."],
      [ROOT, "rename", "d", "d/sub/x"],
      [ROOT, "rename", "d", "e"],
      [ROOT, "rename", "f", "d"],
      [ROOT, "rename", "d", "f"],
      [ROOT, "link", "d", "dl"],
      [ROOT, "rename", "e/f", "d/sub"],
      [ROOT, "rename", "missing", "x"],
      [ROOT, "mkdir", "f/x", "0755"],
      [ROOT, "rmdir", "e"],
      [ROOT, "unlink", "e/f"],
      [ROOT, "rename", "e", "d/sub"],
      [ROOT, "readdir", "d"],
      [ROOT, "lstat", "d", "nlink"],
    ],
    "errors: unprivileged users without search or write permission": [
      [ROOT, "mkdir", "d", "0755"],
      [ROOT, "create", "d/f", "0600"],
      [U1, "create", "d/g", "0644"],
      [U1, "mkdir", "d/s", "0755"],
      [U1, "unlink", "d/f"],
      [U1, "rename", "d/f", "d/h"],
      [U1, "read", "d/f"],
      [U1, "mkfifo", "d/p", "0644"],
      [U1, "mknod", "n", "c", "0644", "1", "3"],
      [ROOT, "chmod", "d", "0700"],
      [U1, "lstat", "d/f", "type"],
      [U1, "readdir", "d"],
      [ROOT, "chmod", "d", "0711"],
      [U1, "lstat", "d/f", "type"],
      [U1, "readdir", "d"],
      [U1, "access", "d/f", "r"],
    ],
  };
}

function specialScenarios(): Record<string, Step[]> {
  const out: Record<string, Step[]> = {
    "special files: FIFOs open and carry data; devices keep their numbers": [
      [ROOT, "mkfifo", "p", "0666"],
      [ROOT, "open", "p", "O_RDONLY,O_NONBLOCK"],
      [ROOT, "open", "p", "O_WRONLY,O_NONBLOCK"],
      [ROOT, "mknod", "c0", "c", "0644", "1", "2"],
      [ROOT, "mknod", "c1", "c", "0600", "255", "255"],
      [ROOT, "mknod", "c2", "c", "0600", "4095", "1048575"],
      [ROOT, "mknod", "b0", "b", "0660", "8", "16"],
      [ROOT, "mknod", "z", "c", "0666", "0", "0"],
      [ROOT, "mknod", "r", "f", "0640", "0", "0"],
      [ROOT, "mknod", "q", "p", "0640", "0", "0"],
      [ROOT, "lstat", "r", "type,mode,size"],
      [ROOT, "lstat", "q", "type,mode"],
      [ROOT, "lstat", "c0", "type,mode,rdev"],
      [ROOT, "lstat", "c1", "type,mode,rdev"],
      [ROOT, "lstat", "c2", "type,mode,rdev"],
      [ROOT, "lstat", "b0", "type,mode,rdev"],
      [ROOT, "lstat", "z", "type,rdev"],
      [ROOT, "rename", "c0", "c3"],
      [ROOT, "link", "c3", "c4"],
      [ROOT, "lstat", "c4", "type,nlink,rdev"],
      [ROOT, "rename", "p", "c3"],
      [ROOT, "lstat", "c3", "type,nlink"],
      [ROOT, "readdir", "."],
      [ROOT, "bind", "sock"],
      [ROOT, "bind", "sock"],
      [ROOT, "lstat", "sock", "type,nlink"],
    ],
  };
  return out;
}

/** Every rule scenario, by name. */
export function ruleScenarios(): Record<string, Step[]> {
  return {
    ...timeScenarios(),
    ...setIdScenarios(),
    ...nameScenarios(),
    ...errorScenarios(),
    ...specialScenarios(),
  };
}
