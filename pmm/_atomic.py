"""Atomic file writes: a failed or killed write leaves any previous file intact.

The data goes to a temporary file beside the target, named ``.<name>.<host>.<pid>.<random>.tmp``,
which is fsynced and renamed over the target. A write that raises removes its temporary file; a
process killed outright cannot, so the next write to the same target removes the temporary files
of writers on this host whose process no longer exists (on POSIX; Windows has no side-effect-free
``os.kill(pid, 0)``, so there the sweep leaves them).
"""

import os
import re
import socket
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO


@contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a temporary file beside ``path`` for binary writing; on success move it onto ``path``.

    The temporary file is flushed and fsynced, then renamed over ``path`` with ``os.replace``
    (atomic on POSIX and Windows), and the directory is fsynced where the OS allows it. If the
    block raises (``KeyboardInterrupt`` included), the temporary file is removed and ``path`` is
    untouched.

    Examples
    --------
    >>> with atomic_write("model.pmm") as file:  # doctest: +SKIP
    ...     file.write(b"...")
    """
    target = Path(path).absolute()
    owner = f".{target.name}.{_host()}."
    _remove_orphans(target.parent, owner)
    descriptor, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f"{owner}{os.getpid()}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as file:
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


def _host() -> str:
    return socket.gethostname().replace(".", "_") or "host"


def _remove_orphans(directory: Path, owner: str) -> None:
    """Delete ``<owner><pid>.<random>.tmp`` files in ``directory`` whose writer has died.

    The name must match exactly (``mkstemp``'s random part has no dots), so temporary files of
    other targets whose names merely start with ``owner`` are never touched. Best effort: a file
    that cannot be removed stays.
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
