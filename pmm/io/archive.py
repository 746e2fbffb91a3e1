"""The zip side of a pmm file: ``.npy`` members written and read without ever unpickling.

Every member is a ``.npy`` array, so ``numpy.load(path, allow_pickle=False)`` reads the file.
Reading parses each member's ``.npy`` header first and refuses object dtypes, and any shape,
dtype or size other than the one the JSON header records, before a single data byte is read.
"""

import os
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

import jax.numpy as jnp
import numpy as np

HEADER_MEMBER = "header"

#: The dtypes a pmm file can hold, by the name the header records. Arrays are stored
#: little-endian; bfloat16 (which ``.npy`` cannot name) is stored as its raw ``uint16`` bits.
DTYPES: dict[str, np.dtype] = {
    name: np.dtype(name)
    for name in (
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
        "complex64",
        "complex128",
    )
} | {"bfloat16": np.dtype(jnp.bfloat16)}

_NPY_VERSIONS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}
_READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    RuntimeError,
    NotImplementedError,
)


class FileProblem(Exception):
    """Why a file cannot be loaded; ``pmm.load`` reraises it as ``LoadError`` naming the file."""


def stored_dtype(name: str) -> np.dtype:
    """The little-endian dtype that ``.npy`` members of header dtype ``name`` are written in."""
    return np.dtype("<u2") if name == "bfloat16" else DTYPES[name].newbyteorder("<")


def to_stored(leaf: Any, where: str) -> tuple[np.ndarray, str]:
    """``leaf`` as a contiguous little-endian numpy array, and its header dtype name.

    Raises ``TypeError`` for leaves that are not arrays or have a dtype pmm files cannot hold.
    """
    if not isinstance(leaf, np.ndarray | np.generic) and not hasattr(leaf, "dtype"):
        raise TypeError(
            f"{where} is a {type(leaf).__name__}; params and state leaves must be arrays "
            "(wrap numbers in jnp.asarray)"
        )
    array = np.asarray(leaf)
    name = array.dtype.name
    if name not in DTYPES:
        raise TypeError(f"{where} has dtype {array.dtype}; pmm files hold {', '.join(DTYPES)}")
    if name == "bfloat16":
        array = array.view(np.uint16)
    return np.asarray(array, dtype=stored_dtype(name), order="C"), name


def from_stored(array: np.ndarray, name: str) -> np.ndarray:
    """Undo ``to_stored``: the array in its native byte order and real dtype."""
    if name == "bfloat16":
        return array.view(DTYPES[name])
    return array.astype(DTYPES[name], copy=False)


def write_archive(file: BinaryIO, header: bytes, arrays: dict[str, np.ndarray]) -> None:
    """Write ``header`` (UTF-8 JSON) as ``header.npy`` and each array as ``<name>.npy``."""
    with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        members = {HEADER_MEMBER: np.frombuffer(header, np.uint8), **arrays}
        for name, array in members.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


@contextmanager
def open_archive(path: str | os.PathLike[str]) -> Iterator[zipfile.ZipFile]:
    """Open ``path`` as a zip archive of ``.npy`` members with unique names.

    Raises ``FileProblem`` when the file is missing, unreadable, or not a sound zip archive.
    """
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise FileProblem("no such file") from None
    except IsADirectoryError:
        raise FileProblem("it is a directory, not a file") from None
    except PermissionError:
        raise FileProblem("permission denied") from None
    except _READ_ERRORS as error:
        raise FileProblem(f"not a zip archive, or truncated or corrupted ({error})") from None
    with archive:
        names = archive.namelist()
        if len(set(names)) != len(names):
            raise FileProblem("the zip archive holds two members with the same name (corrupted)")
        if any(not name.endswith(".npy") for name in names):
            raise FileProblem("the zip archive holds members that are not .npy arrays")
        yield archive


def member_names(archive: zipfile.ZipFile) -> set[str]:
    """The array names in ``archive``: member names without ``.npy``, the header excluded."""
    return {name.removesuffix(".npy") for name in archive.namelist()} - {HEADER_MEMBER}


def read_member(
    archive: zipfile.ZipFile, name: str, dtype: np.dtype, shape: tuple[int, ...] | None
) -> np.ndarray:
    """Read member ``<name>.npy``, which must hold ``dtype`` and ``shape`` (any 1-D if ``None``).

    The ``.npy`` header is checked before any data is read: compressed members, object arrays
    (pickles), other dtypes, shapes or sizes, and sizes too large to allocate raise
    ``FileProblem``.
    """
    member = f"{name}.npy"
    try:
        info = archive.getinfo(member)
        if info.compress_type != zipfile.ZIP_STORED:
            # pmm stores members uncompressed; refusing others rules out decompression bombs.
            raise FileProblem(f"{member} is compressed; pmm files store their arrays uncompressed")
        with archive.open(info) as stream:
            version = np.lib.format.read_magic(stream)
            if version not in _NPY_VERSIONS:
                raise FileProblem(f"{member} uses .npy format version {version}, not 1.0 or 2.0")
            found_shape, fortran, found_dtype = _NPY_VERSIONS[version](stream)
            if found_dtype.hasobject:
                raise FileProblem(f"{member} holds Python objects (a pickle); pmm never unpickles")
            if found_dtype != dtype or (
                len(found_shape) != 1 if shape is None else found_shape != shape
            ):
                expected = f"{dtype.str}{'[n]' if shape is None else list(shape)}"
                raise FileProblem(
                    f"{member} holds {found_dtype.str}{list(found_shape)} but the header "
                    f"records {expected}"
                )
            size = int(np.prod(found_shape)) * dtype.itemsize
            if info.file_size - stream.tell() != size:
                raise FileProblem(
                    f"{member} holds {info.file_size - stream.tell()} data bytes "
                    f"where {dtype.str}{list(found_shape)} needs {size} (truncated)"
                )
            data = _read_aligned(stream, size)
    except FileProblem:
        raise
    except MemoryError:
        raise FileProblem(f"{member} declares more data than this machine can allocate") from None
    except KeyError:
        raise FileProblem(f"the archive has no member {member}") from None
    except _READ_ERRORS as error:
        raise FileProblem(f"{member} is corrupted ({error})") from None
    return data.view(dtype).reshape(found_shape, order="F" if fortran else "C")


#: Bytes read from a member at a time, and the alignment of the buffer they go to: JAX's CPU
#: client adopts a 64-byte-aligned numpy buffer without copying it.
_CHUNK_BYTES = 1 << 20
_ALIGNMENT = 64


def _read_aligned(stream: Any, size: int) -> np.ndarray:
    """The next ``size`` bytes of ``stream`` in a fresh 64-byte-aligned uint8 array, read once."""
    raw = np.empty(size + _ALIGNMENT, np.uint8)
    start = -raw.ctypes.data % _ALIGNMENT
    data = raw[start : start + size]
    view = data.data
    position = 0
    while position < size:
        count = stream.readinto(view[position : position + _CHUNK_BYTES])
        if not count:
            raise FileProblem(
                f"a member ends after {position} of its {size} data bytes (truncated)"
            )
        position += count
    return data
