#!/usr/bin/env python3
"""Runs file system steps and prints what each observed, for the POSIX
scenarios (tests/posix_conformance_test.ts): the same steps on a Trove mount
and on tmpfs must observe the same things.

Reads one JSON object from stdin: {"steps": [[who, op, arg...], ...]}, with
`who` null (root, in this process) or [uid, gid, [groups...]] (run in a child
that drops to that user, as pjdfstest's -u/-g do). Prints a JSON list: one
result per step, "0" or the errno's name (ENOENT) or what the op reports.
The working directory is the scenario's directory; names are relative.
"""

import ctypes
import ctypes.util
import errno
import json
import os
import socket
import stat
import sys
import time

libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


class Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


UTIME_NOW = (1 << 30) - 1
UTIME_OMIT = (1 << 30) - 2
AT_FDCWD = -100
AT_SYMLINK_NOFOLLOW = 0x100

FLAGS = {
    "O_RDONLY": os.O_RDONLY,
    "O_WRONLY": os.O_WRONLY,
    "O_RDWR": os.O_RDWR,
    "O_CREAT": os.O_CREAT,
    "O_EXCL": os.O_EXCL,
    "O_TRUNC": os.O_TRUNC,
    "O_APPEND": os.O_APPEND,
    "O_NOFOLLOW": os.O_NOFOLLOW,
    "O_DIRECTORY": os.O_DIRECTORY,
    "O_NONBLOCK": os.O_NONBLOCK,
}


def flags_of(text):
    f = 0
    for part in text.split(","):
        f |= FLAGS[part]
    return f


def kind_of(mode):
    return {
        stat.S_IFREG: "regular",
        stat.S_IFDIR: "dir",
        stat.S_IFLNK: "symlink",
        stat.S_IFIFO: "fifo",
        stat.S_IFCHR: "char",
        stat.S_IFBLK: "block",
        stat.S_IFSOCK: "socket",
    }.get(stat.S_IFMT(mode), "unknown")


def fields(st, which):
    out = []
    for f in which.split(","):
        if f == "type":
            out.append(kind_of(st.st_mode))
        elif f == "mode":
            out.append("0%o" % stat.S_IMODE(st.st_mode))
        elif f == "nlink":
            out.append(str(st.st_nlink))
        elif f == "uid":
            out.append(str(st.st_uid))
        elif f == "gid":
            out.append(str(st.st_gid))
        elif f == "size":
            out.append(str(st.st_size))
        elif f == "rdev":
            out.append("%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev)))
        elif f == "atime":
            out.append(str(st.st_atime_ns))
        elif f == "mtime":
            out.append(str(st.st_mtime_ns))
        else:
            raise ValueError("unknown field " + f)
    return ",".join(out)


def timespec(spec):
    if spec == "now":
        return Timespec(0, UTIME_NOW)
    if spec == "omit":
        return Timespec(0, UTIME_OMIT)
    sec, _, nsec = spec.partition(".")
    return Timespec(int(sec), int(nsec or 0))


def utimensat(name, atime, mtime, follow=True):
    times = (Timespec * 2)(timespec(atime), timespec(mtime))
    flags = 0 if follow else AT_SYMLINK_NOFOLLOW
    if libc.utimensat(AT_FDCWD, name.encode(), times, flags) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def utimensat_null(name):
    """utimensat(name, NULL): both times now, with its own permission rule."""
    if libc.utimensat(AT_FDCWD, name.encode(), None, 0) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def bind(name):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.bind(name)
    finally:
        s.close()


def open_and(name, flags, mode, then):
    fd = os.open(name, flags_of(flags), int(mode, 8) if mode else 0o644)
    try:
        return then(fd)
    finally:
        os.close(fd)


def step(op, args):
    """One operation; returns what it observed ("0" when it only succeeds)."""
    a = args
    if op == "create":
        os.close(os.open(a[0], os.O_CREAT | os.O_EXCL | os.O_WRONLY, int(a[1], 8)))
    elif op == "open":
        open_and(a[0], a[1], a[2] if len(a) > 2 else None, lambda fd: None)
    elif op == "open_write":
        # open, write, then fstat: what the open file reports.
        return open_and(a[0], a[1], None,
                        lambda fd: (os.write(fd, a[2].encode()), fields(os.fstat(fd), a[3]))[1])
    elif op == "ftruncate":
        open_and(a[0], a[1], None, lambda fd: os.ftruncate(fd, int(a[2])))
    elif op == "write":
        open_and(a[0], "O_WRONLY", None, lambda fd: os.write(fd, a[1].encode()))
    elif op == "read":
        return open_and(a[0], "O_RDONLY", None, lambda fd: os.read(fd, 1 << 16).decode())
    elif op == "mkdir":
        os.mkdir(a[0], int(a[1], 8))
    elif op == "mkfifo":
        os.mkfifo(a[0], int(a[1], 8))
    elif op == "mknod":
        kind = {"b": stat.S_IFBLK, "c": stat.S_IFCHR, "f": stat.S_IFREG, "p": stat.S_IFIFO}[a[1]]
        os.mknod(a[0], kind | int(a[2], 8), os.makedev(int(a[3]), int(a[4])))
    elif op == "bind":
        bind(a[0])
    elif op == "symlink":
        os.symlink(a[0], a[1])
    elif op == "readlink":
        return os.readlink(a[0])
    elif op == "link":
        os.link(a[0], a[1], follow_symlinks=False)
    elif op == "rename":
        os.rename(a[0], a[1])
    elif op == "unlink":
        os.unlink(a[0])
    elif op == "rmdir":
        os.rmdir(a[0])
    elif op == "chmod":
        os.chmod(a[0], int(a[1], 8))
    elif op == "chown":
        os.chown(a[0], int(a[1]), int(a[2]))
    elif op == "lchown":
        os.lchown(a[0], int(a[1]), int(a[2]))
    elif op == "truncate":
        os.truncate(a[0], int(a[1]))
    elif op == "utimensat":
        utimensat(a[0], a[1], a[2], follow=len(a) < 4)
    elif op == "touch_null":
        utimensat_null(a[0])
    elif op == "stat":
        return fields(os.stat(a[0]), a[1])
    elif op == "lstat":
        return fields(os.lstat(a[0]), a[1])
    elif op == "readdir":
        return ",".join(sorted(os.listdir(a[0])))
    elif op == "access":
        return "0" if os.access(a[0], {"r": os.R_OK, "w": os.W_OK, "x": os.X_OK}[a[1]]) else "no"
    else:
        raise ValueError("unknown op " + op)
    return "0"


def guarded(op, args):
    try:
        return step(op, args)
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def as_user(who, op, args):
    """Runs a step in a child process that has become `who`."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            uid, gid, groups = who
            os.setgroups(groups)
            os.setresgid(gid, gid, gid)
            os.setresuid(uid, uid, uid)
            out = guarded(op, args)
        except BaseException as e:  # report, never fall through into the parent's loop
            out = "error: %r" % (e,)
        os.write(w, out.encode())
        os._exit(0)
    os.close(w)
    chunks = []
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(r)
    os.waitpid(pid, 0)
    return b"".join(chunks).decode()


class Marks:
    """Times remembered by `mark NAME`, compared by `changed NAME [MARK]` (as
    root, in-process): which of mtime and ctime differ ("mc", "-c", "--").
    Access times are left out: the mount does not update them on reads."""

    def __init__(self):
        self.times = {}

    def mark(self, name):
        st = os.lstat(name)
        self.times[name] = (st.st_mtime_ns, st.st_ctime_ns)
        # The kernel stamps times from a coarse clock (a tick of a few ms):
        # let one pass, so a change made next shows in the times.
        time.sleep(0.02)
        return "0"

    def changed(self, name, mark=None):
        st = os.lstat(name)
        m, c = self.times[mark or name]
        return ("m" if st.st_mtime_ns != m else "-") + ("c" if st.st_ctime_ns != c else "-")


def main():
    plan = json.load(sys.stdin)
    marks = Marks()
    out = []
    for who, op, *args in plan["steps"]:
        if op in ("mark", "changed"):
            try:
                out.append(getattr(marks, op)(*args))
            except OSError as e:
                out.append(errno.errorcode.get(e.errno, str(e.errno)))
        elif op == "umask":
            os.umask(int(args[0], 8))
            out.append("0")
        elif who is None:
            out.append(guarded(op, args))
        else:
            out.append(as_user(who, op, args))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
