"""Atomic file writes: a failed or killed write leaves any previous file intact.

The data goes to a temporary file beside the target, named ``.<name>.<host>.<pid>.<random>.tmp``,
which is fsynced and renamed over the target. A write that raises removes its temporary file; a
process killed outright cannot, so the next write to the same target removes the temporary files
of writers on this host whose process no longer exists (on POSIX; Windows has no side-effect-free
``os.kill(pid, 0)``, so there the sweep leaves them).

The new file gets the permissions ``open(path, "w")`` would give it: those of the file it
replaces, or for a new file ``0o666`` less the umask (the temporary file is created with mode
``0o666`` and the kernel applies the umask; reading the umask with ``os.umask`` would race with
other threads). A symlink at ``path`` is written through: its target is replaced, atomically, by
a temporary file in the target's directory, and the link stays. A path that is a directory,
device, FIFO or socket is refused (renaming over it would replace it, ``/dev/null`` included).
"""

import errno
import os
import re
import secrets
import socket
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from pmm.io.filesystem import file_kind

_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
#: Attempts at a fresh random temporary name before giving up (a clash is already ~2**-48).
_NAME_ATTEMPTS = 100


@contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a temporary file beside ``path`` for binary writing; on success move it onto ``path``.

    The temporary file is flushed and fsynced, then renamed over ``path`` with ``os.replace``
    (atomic on POSIX and Windows), and the directory is fsynced where the OS allows it. If the
    block raises (``KeyboardInterrupt`` included), the temporary file is removed and ``path`` is
    untouched. If ``path`` is a symlink, the file it points to is replaced and the link is kept.
    Raises ``IsADirectoryError`` if ``path`` is a directory and ``FileExistsError`` if it is
    another file that is not regular (a device, FIFO or socket), before writing anything.

    Examples
    --------
    >>> with atomic_write("model.pmm") as file:  # doctest: +SKIP
    ...     file.write(b"...")
    """
    target = Path(os.path.realpath(path))
    _refuse_special(target)
    owner = f".{target.name}.{_host()}."
    _remove_orphans(target.parent, owner)
    descriptor, temporary = _create_temporary(target, owner)
    try:
        with os.fdopen(descriptor, "wb") as file:
            _keep_mode(file.fileno(), target)
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    with suppress(OSError):  # not every platform can open a directory to fsync it
        directory_descriptor = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(directory_descriptor)
        finally:
            os.close(directory_descriptor)


def _create_temporary(target: Path, owner: str) -> tuple[int, Path]:
    """A new temporary file ``<owner><pid>.<random>.tmp`` beside ``target``: its descriptor, path.

    Created with mode ``0o666``, so the umask alone decides its permissions, as ``open`` does.
    """
    for _ in range(_NAME_ATTEMPTS):
        temporary = target.parent / f"{owner}{os.getpid()}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(temporary, _CREATE_FLAGS, 0o666), temporary
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file beside {target}")


def _refuse_special(target: Path) -> None:
    try:
        kind = file_kind(os.stat(target).st_mode)
    except OSError:  # nothing there yet (or unreadable: the write itself will say)
        return
    if kind == "a directory":
        raise IsADirectoryError(errno.EISDIR, "it is a directory; give a file name", str(target))
    if kind is not None:
        raise FileExistsError(
            errno.EEXIST, f"it is {kind}; pmm writes only regular files", str(target)
        )


def _keep_mode(descriptor: int, target: Path) -> None:
    """Give the new file the permission bits of the file at ``target``, if there is one."""
    try:
        existing = os.stat(target)
    except OSError:
        return
    if stat.S_ISREG(existing.st_mode) and hasattr(os, "fchmod"):
        with suppress(OSError):
            os.fchmod(descriptor, stat.S_IMODE(existing.st_mode) & 0o777)


def _host() -> str:
    return socket.gethostname().replace(".", "_") or "host"


def _remove_orphans(directory: Path, owner: str) -> None:
    """Delete ``<owner><pid>.<random>.tmp`` files in ``directory`` whose writer has died.

    The name must match exactly (the random part has no dots), so temporary files of other
    targets whose names merely start with ``owner`` are never touched. Best effort: a file that
    cannot be removed stays.
    """
    pattern = re.compile(re.escape(owner) + r"(\d{1,9})\.[a-z0-9_]+\.tmp")
    for leftover in os.listdir(directory):
        found = pattern.fullmatch(leftover)
        if found and not _process_exists(int(found[1])):
            with suppress(OSError):
                os.unlink(directory / leftover)


def _process_exists(pid: int) -> bool:
    if sys.platform == "win32":  # os.kill(pid, 0) would send CTRL_C_EVENT, which is 0
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but belongs to someone else, or the platform cannot tell
        return True
    return True
