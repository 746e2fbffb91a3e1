"""Atomic file writes: a crash mid-write leaves any previous file intact and no temporary file."""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
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
    target = os.path.abspath(os.fspath(path))
    directory, name = os.path.split(target)
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
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
        directory_descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(directory_descriptor)
        finally:
            os.close(directory_descriptor)
