"""Start the learner's kernel inside its limits: ``python launcher.py CONFIG CONNECTION_FILE``.

The grader's kernel manager runs this script (by path, so it imports nothing
from the book) in place of the kernel.  It reads the JSON ``CONFIG`` the
grader wrote, then, in this order:

1. copies the connection file where the kernel user can read it;
2. with ``"namespace": true``, enters a private mount namespace and lays an
   empty tmpfs over every folder in ``hide`` (the book's real package, the
   repository with its solutions, the folders of the graded notebooks), and
   over every folder the kernel user could not enter anyway (``/root``, say),
   then mounts back the folders in ``expose`` (Python, the virtual
   environment, the sandbox) at their own paths;
3. sets the limits: address space (``memory_mb``), processes (``nproc``),
   file size, no core files;
4. with a ``uid``, drops to that user and group, with no supplementary
   groups and ``no_new_privs``;
5. with ``"quiet": true``, points its standard streams at ``/dev/null``, so nothing the
   learner's code writes to file descriptors 1 or 2 reaches the grader's
   own output (a forged ``results.json``, say);
6. replaces itself with ``argv`` (the kernel), in ``cwd``, with ``env``.

Any failure exits with status 70 and one line on standard error.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import stat
import sys

CLONE_NEWNS = 0x00020000
MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 4096, 16384, 1 << 18
PR_SET_NO_NEW_PRIVS = 38


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _enc(text: str | None) -> bytes | None:
    return text.encode() if text is not None else None


def _mount(libc, source, target, fstype, flags, data=None) -> None:
    enc = _enc
    _check(libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}")


def _traversable(path: str, uid: int, gid: int) -> bool:
    st = os.stat(path)
    if st.st_uid == uid:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid == gid:
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def isolate_mounts(hide: list[str], expose: list[str], uid: int, gid: int) -> None:
    """Private mounts: ``hide`` (and closed ancestors of ``expose``) emptied, ``expose`` kept."""
    libc = _libc()
    expose = [os.path.realpath(p) for p in expose if os.path.exists(p)]
    covers = [os.path.realpath(h) for h in hide if os.path.isdir(h)]
    for path in expose:  # folders on the way to an exposed path that the kernel user cannot enter
        parts = path.strip("/").split("/")
        for i in range(1, len(parts)):
            anc = "/" + "/".join(parts[:i])
            if not _traversable(anc, uid, gid):
                covers.append(anc)
                break
    # keep only the outermost covers; a cover inside an exposed path that is not itself above it is fine
    covers = sorted(set(covers), key=len)
    outer: list[str] = []
    for c in covers:
        if not any(_inside(c, o) for o in outer):
            outer.append(c)
    _check(libc.unshare(CLONE_NEWNS), "unshare")
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)
    keep_fds = {p: os.open(p, os.O_PATH | os.O_DIRECTORY) for p in expose}  # in the new namespace
    for cover in outer:
        if any(_inside(cover, p) and cover != p for p in expose):
            continue  # never cover a folder inside one that must stay whole
        _mount(libc, "tmpfs", cover, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=64k")
        for path, fd in keep_fds.items():
            if _inside(path, cover):
                os.makedirs(path, mode=0o755, exist_ok=True)
                _mount(libc, f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
    for fd in keep_fds.values():
        os.close(fd)


def set_limits(memory_mb: int | None, nproc: int | None, fsize_mb: int | None) -> None:
    if memory_mb:
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))
    if nproc:
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    if fsize_mb:
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize_mb << 20, fsize_mb << 20))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def drop_privileges(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    _check(_libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl")


def main(argv: list[str]) -> int:
    config = json.loads(open(argv[1], encoding="utf-8").read())
    uid, gid = config.get("uid"), config.get("gid")
    if len(argv) > 2 and config.get("connection_dst"):
        data = open(argv[2], "rb").read()
        dst = config["connection_dst"]
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o400)
        os.write(fd, data)
        os.close(fd)
        if uid is not None:
            os.chown(dst, uid, gid)
    if config.get("namespace"):
        isolate_mounts(config.get("hide", []), config.get("expose", []), uid or 0, gid or 0)
    set_limits(config.get("memory_mb"), config.get("nproc"), config.get("fsize_mb"))
    if uid is not None:
        drop_privileges(uid, gid)
    os.chdir(config["cwd"])
    if config.get("quiet"):
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
    cmd = config["argv"]
    os.execve(cmd[0], cmd, config["env"])
    return 70  # pragma: no cover


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Exception as exc:  # one line for the grader, which reports it
        print(f"book-grade launcher: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(70)
