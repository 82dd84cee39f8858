/**
 * POSIX conformance scenarios, as step lists for `fsop.py`: each file type
 * × each operation, as root and as unprivileged users, with the errno or
 * attributes each step observes. posix_conformance_test.ts runs every
 * scenario on a Trove mount and on tmpfs (the reference) and requires the
 * same transcript. The areas follow what conformance suites such as
 * pjdfstest cover: create, open, rename, link, unlink, rmdir, mkdir,
 * mkfifo, mknod, chmod, chown, truncate, ftruncate, utimensat, with the
 * permission, sticky, set-ID, time and name-length rules of each.
 */

/** Who runs a step: null is root, else [uid, gid, supplementary groups]. */
export type Who = null | [number, number, number[]];
/** One step: who, the operation, its arguments (see fsop.py). */
export type Step = [Who, string, ...string[]];

export const ROOT: Who = null;
/** An unprivileged user (nobody) and a second one. */
export const U1: Who = [65534, 65534, [65534]];
export const U2: Who = [65533, 65533, [65533]];
/** U1 with more groups, for group changes an owner may make. */
export const U1G: Who = [65534, 65534, [65534, 65533, 65532, 65531]];

export const TYPES = ["regular", "dir", "fifo", "block", "char", "socket", "symlink"] as const;
export type FileType = typeof TYPES[number];

const ATTRS = "type,mode,nlink,uid,gid";

/** Steps that make a file of `type` named `name` (as `who`). */
export function make(type: FileType, name: string, who: Who = ROOT, mode = "0644"): Step[] {
  switch (type) {
    case "regular":
      return [[who, "create", name, mode]];
    case "dir":
      return [[who, "mkdir", name, mode === "0644" ? "0755" : mode]];
    case "fifo":
      return [[who, "mkfifo", name, mode]];
    case "block":
      return [[who, "mknod", name, "b", mode, "1", "2"]];
    case "char":
      return [[who, "mknod", name, "c", mode, "1", "2"]];
    case "socket":
      return [[who, "bind", name], [who, "chmod", name, mode]];
    case "symlink":
      return [[who, "symlink", "test", name]];
  }
}

/** Steps that remove `name` of `type`. */
export function remove(type: FileType, name: string, who: Who = ROOT): Step[] {
  return [[who, type === "dir" ? "rmdir" : "unlink", name]];
}

const s = (...steps: (Step | Step[])[]): Step[] =>
  steps.flatMap((x) => Array.isArray(x[0]) || x.length === 0 ? x as Step[] : [x as Step]);

/** Scenarios per file type: create, rename, link, unlink, chmod, chown, times. */
function perType(type: FileType): Record<string, Step[]> {
  const dir = type === "dir";
  const link = type !== "symlink";
  return {
    [`${type}: create and stat`]: s(
      make(type, "n0"),
      [ROOT, "lstat", "n0", ATTRS],
      [ROOT, "readdir", "."],
      remove(type, "n0"),
      [ROOT, "lstat", "n0", "type"],
    ),
    [`${type}: rename within and across directories, times`]: s(
      [ROOT, "mkdir", "d", "0755"],
      make(type, "n0"),
      [ROOT, "mark", "n0"],
      [ROOT, "mark", "."],
      [ROOT, "mark", "d"],
      [ROOT, "rename", "n0", "n1"],
      [ROOT, "lstat", "n0", "type"],
      [ROOT, "lstat", "n1", ATTRS],
      [ROOT, "changed", "n1", "n0"],
      [ROOT, "changed", "."],
      [ROOT, "mark", "n1"],
      [ROOT, "mark", "."],
      [ROOT, "rename", "n1", "d/n2"],
      [ROOT, "changed", "d/n2", "n1"],
      [ROOT, "changed", "."],
      [ROOT, "changed", "d"],
      [ROOT, "lstat", "d", "nlink"],
      [ROOT, "lstat", ".", "nlink"],
      remove(type, "d/n2"),
    ),
    [`${type}: hard links and their times`]: s(
      make(type, "n0"),
      [ROOT, "mark", "n0"],
      [ROOT, "mark", "."],
      [ROOT, "link", "n0", "n1"],
      [ROOT, "changed", "n0"],
      [ROOT, "changed", "."],
      [ROOT, "lstat", "n0", "type,nlink"],
      [ROOT, "lstat", "n1", "type,nlink"],
      [ROOT, "mark", "n1"],
      [ROOT, "rename", "n1", "n2"],
      [ROOT, "lstat", "n0", "nlink"],
      [ROOT, "mark", "n0"],
      [ROOT, "unlink", "n2"],
      [ROOT, "changed", "n0"],
      [ROOT, "lstat", "n0", "type,nlink"],
      remove(type, "n0"),
    ),
    [`${type}: chmod, and its times`]: s(
      make(type, "n0"),
      [ROOT, "mark", "n0"],
      [ROOT, "chmod", "n0", "0700"],
      [ROOT, "lstat", "n0", "mode"],
      [ROOT, "changed", "n0"],
      [ROOT, "chmod", "n0", "07777"],
      [ROOT, "lstat", "n0", "mode"],
      [U1, "chmod", "n0", "0777"],
      [ROOT, "lstat", "n0", "mode"],
    ),
    [`${type}: chown by root, set-ID bits`]: s(
      make(type, "n0"),
      [ROOT, "mark", "n0"],
      [ROOT, "lchown", "n0", "123", "456"],
      [ROOT, "lstat", "n0", "uid,gid"],
      [ROOT, "changed", "n0"],
      link ? [ROOT, "chmod", "n0", "06555"] : [],
      [ROOT, "lchown", "n0", "65532", "65531"],
      [ROOT, "lstat", "n0", "mode,uid,gid"],
      [ROOT, "chown", "n0", "0", "0"],
      [ROOT, "lstat", "n0", "mode,uid,gid"],
    ),
    [`${type}: chown by the owner and by others`]: s(
      make(type, "n0"),
      [ROOT, "lchown", "n0", "65534", "65533"],
      [U1G, "lchown", "n0", "-1", "65532"],
      [ROOT, "lstat", "n0", "uid,gid"],
      [U1G, "lchown", "n0", "65534", "65531"],
      [ROOT, "lstat", "n0", "uid,gid"],
      [U1, "lchown", "n0", "-1", "65530"],
      [U1, "lchown", "n0", "65533", "-1"],
      [U2, "lchown", "n0", "-1", "-1"],
      [U2, "lchown", "n0", "65533", "65533"],
      [U2, "lchown", "n0", "-1", "65533"],
      [ROOT, "mark", "n0"],
      [U1, "lchown", "n0", "-1", "65534"],
      [ROOT, "changed", "n0"],
      [ROOT, "lstat", "n0", "uid,gid"],
    ),
    [`${type}: chown by a non-root owner clears set-ID bits`]: link
      ? s(
        make(type, "n0"),
        [ROOT, "chown", "n0", "65534", "65533"],
        [ROOT, "chmod", "n0", "06555"],
        [U1G, "chown", "n0", "65534", "65532"],
        [ROOT, "lstat", "n0", "mode,uid,gid"],
        [ROOT, "chmod", "n0", "06555"],
        [U1G, "chown", "n0", "-1", "-1"],
        [ROOT, "lstat", "n0", "mode,uid,gid"],
        [ROOT, "chmod", "n0", "02545"],
        [U1G, "chown", "n0", "-1", "65533"],
        [ROOT, "lstat", "n0", "mode,uid,gid"],
      )
      : [],
    [`${type}: made by an unprivileged user in a 0777 directory`]: s(
      [ROOT, "mkdir", "d", "0777"],
      make(type, "d/n0", U1),
      [ROOT, "lstat", "d/n0", ATTRS],
      [U1, "rename", "d/n0", "d/n1"],
      [U2, "rename", "d/n1", "d/n2"],
      [ROOT, "lstat", "d/n2", "type,uid"],
      dir ? [] : [U2, "link", "d/n2", "d/n3"],
      dir ? [] : [U1, "unlink", "d/n3"],
      remove(type, "d/n2", U2),
      [ROOT, "readdir", "d"],
    ),
    [`${type}: unprivileged users in directories they own or may not write`]: s(
      [ROOT, "mkdir", "d", "0755"],
      [ROOT, "chown", "d", "65534", "65534"],
      make(type, "d/n0", U1),
      make(type, "d/n1", U2),
      [U1, "rename", "d/n0", "d/n1"],
      [U2, "rename", "d/n0", "d/n2"],
      remove(type, "d/n0", U2),
      [ROOT, "lstat", "d/n0", "type,uid,gid"],
      [ROOT, "chmod", "d", "0700"],
      [U2, "lstat", "d/n0", "type"],
      remove(type, "d/n0", U1),
      [ROOT, "readdir", "d"],
    ),
    [`${type}: sticky directory`]: s(
      [ROOT, "mkdir", "d", "01777"],
      make(type, "d/n0", U1),
      [U2, "rename", "d/n0", "d/n1"],
      remove(type, "d/n0", U2),
      make(type, "d/m0", U2),
      [U1, "rename", "d/n0", "d/m0"],
      [U1, "rename", "d/n0", "d/n1"],
      [ROOT, "chown", "d", "65533", "65533"],
      [U2, "rename", "d/n1", "d/n2"],
      remove(type, "d/n2", U2),
      remove(type, "d/m0", ROOT),
      [ROOT, "readdir", "d"],
    ),
    [`${type}: in a set-group-ID directory`]: s(
      [ROOT, "mkdir", "d", "0777"],
      [ROOT, "chown", "d", "0", "65530"],
      [ROOT, "chmod", "d", "02777"],
      make(type, "d/n0", U1, dir ? "02755" : "02755"),
      [ROOT, "lstat", "d/n0", type === "symlink" ? "type,uid,gid" : ATTRS],
      make(type, "d/n1", ROOT),
      [ROOT, "lstat", "d/n1", type === "symlink" ? "type,uid,gid" : ATTRS],
    ),
    [`${type}: failed operations change nothing`]: s(
      make(type, "n0"),
      [ROOT, "mark", "n0"],
      [ROOT, "mark", "."],
      [U1, "rename", "n0", "n1"],
      [U1, "lchown", "n0", "65534", "-1"],
      link ? [U1, "link", "n0", "n1"] : [],
      remove(type, "n0", U1),
      [ROOT, "changed", "n0"],
      [ROOT, "changed", "."],
      [ROOT, "lstat", "n0", ATTRS],
    ),
  };
}

/** Every scenario, by name. */
export function scenarios(): Record<string, Step[]> {
  const all: Record<string, Step[]> = {};
  for (const t of TYPES) Object.assign(all, perType(t));
  for (const [k, v] of Object.entries(all)) if (v.length === 0) delete all[k];
  return all;
}
