"""Which paths pmm reads and writes: the types that name a file, and regular files only.

A path is a ``str``, ``bytes`` or ``os.PathLike``. File objects (``open(...)``, ``io.BytesIO``)
are refused for saving and loading alike: saving needs a path to write a temporary file beside the
target and rename it (atomicity), and loading checks that the path is a regular file *before*
opening it, so that ``/dev/zero`` or a FIFO is refused instead of read forever or waited on.
"""

import os
import stat
from typing import Any, BinaryIO

from pmm.io.problem import FileProblem

_SPECIAL_KINDS = (
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
)
#: Opening without blocking (a FIFO otherwise waits for a writer) and without becoming the
#: process's controlling terminal; the flags a platform lacks are 0.
_READ_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
)


def file_path(path: Any, argument: str = "path") -> str:
    """``path`` as a ``str``; ``TypeError`` naming ``argument`` unless it is a path.

    Accepts ``str``, ``bytes`` (decoded as ``os.fsdecode`` does) and ``os.PathLike``.

    Examples
    --------
    >>> file_path(b"model.pmm")
    'model.pmm'
    >>> file_path(None)
    Traceback (most recent call last):
    TypeError: path must be a str, bytes or os.PathLike naming a file, not NoneType ...
    """
    if isinstance(path, str | bytes | os.PathLike):
        try:
            name = os.fsdecode(path)
        except TypeError as error:  # a PathLike whose __fspath__ returns something else
            raise TypeError(f"{argument} {path!r} is not a usable path: {error}") from None
        if "\0" in name:
            raise ValueError(f"{argument} {name!r} holds a NUL character, which no file name can")
        return name
    raise TypeError(
        f"{argument} must be a str, bytes or os.PathLike naming a file, not "
        f"{type(path).__name__} (pmm saves and loads files by path; file objects are not "
        "accepted: write the bytes to a file first)"
    )


def open_regular(path: str) -> BinaryIO:
    """Open ``path`` for binary reading if it is a regular file (or a symlink to one).

    Raises ``FileProblem`` for a missing path, a directory, a device, FIFO or socket (checked
    with ``os.stat`` before opening, and again on the open descriptor), and for denied access.
    """
    try:
        kind = file_kind(os.stat(path).st_mode)
        if kind is None:
            descriptor = os.open(path, _READ_FLAGS)
            try:
                kind = file_kind(os.fstat(descriptor).st_mode)  # it may have changed since stat
            except BaseException:
                os.close(descriptor)
                raise
            if kind is None:
                return os.fdopen(descriptor, "rb")
            os.close(descriptor)
    except FileNotFoundError:
        raise FileProblem("no such file") from None
    except PermissionError:
        raise FileProblem("permission denied") from None
    except OSError as error:
        raise FileProblem(f"cannot open it ({error.strerror or error})") from None
    if kind == "a directory":
        raise FileProblem("it is a directory, not a file")
    raise FileProblem(
        f"it is {kind}, not a regular file; pmm reads only regular files (a symlink to one is fine)"
    )


def file_kind(mode: int) -> str | None:
    """``None`` for a regular file, else what a file of ``st_mode`` ``mode`` is, for messages.

    Examples
    --------
    >>> file_kind(os.stat("/").st_mode) if os.name == "posix" else "a directory"
    'a directory'
    """
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    return next((kind for test, kind in _SPECIAL_KINDS if test(mode)), "a special file")
