"""The ``.npy`` members of pmm's zip files: the dtypes they hold, and reading one safely.

Reading parses a member's ``.npy`` header first and refuses object dtypes (pickles) and any
shape, dtype or size other than the one the file's JSON header records, before a single data
byte is read; the data then goes to one fresh buffer of exactly the recorded size.
"""

import math
import zipfile
from typing import IO, Any

import jax
import jax.numpy as jnp
import numpy as np

from pmm.io.problem import FileProblem

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
#: Bytes read from a member at a time, and the alignment of the buffer they go to: JAX's CPU
#: client adopts a 64-byte-aligned numpy buffer without copying it.
_CHUNK_BYTES = 1 << 20
_ALIGNMENT = 64


def stored_dtype(name: str) -> np.dtype:
    """The little-endian dtype that ``.npy`` members of header dtype ``name`` are written in."""
    return np.dtype("<u2") if name == "bfloat16" else DTYPES[name].newbyteorder("<")


def to_stored(leaf: Any, where: str) -> tuple[np.ndarray, str]:
    """``leaf`` as a contiguous little-endian numpy array, and its header dtype name.

    Raises ``TypeError`` for leaves that are not arrays or have a dtype pmm files cannot hold.

    Examples
    --------
    >>> to_stored(jnp.ones(2, jnp.bfloat16), "params['w']")
    (array([16256, 16256], dtype=uint16), 'bfloat16')
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


def read_npy(
    archive: zipfile.ZipFile, member: str, dtype: np.dtype, shape: tuple[int, ...] | None
) -> np.ndarray:
    """Read ``member``, which must hold ``dtype`` and ``shape`` (any 1-D if ``None``).

    Raises ``FileProblem`` for object arrays (pickles), other dtypes, shapes or sizes, data of
    the wrong length, bool arrays holding bytes other than 0 and 1, and unreadable data.
    """
    try:
        with archive.open(member) as stream:
            found_shape, fortran = _read_npy_header(stream, member, dtype, shape)
            size = math.prod(found_shape) * dtype.itemsize
            available = archive.getinfo(member).file_size - stream.tell()
            if available != size:
                raise FileProblem(
                    f"{member} holds {available} data bytes where "
                    f"{dtype.str}{list(found_shape)} needs {size} (truncated or corrupted)"
                )
            data = _read_aligned(stream, size, member)
    except MemoryError:
        raise FileProblem(f"{member} declares more data than this machine can allocate") from None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError) as error:
        raise FileProblem(f"{member} is corrupted ({error})") from None
    if dtype == np.bool_ and np.any(data > 1):
        raise FileProblem(f"{member} is a bool array holding bytes other than 0 and 1 (corrupted)")
    return data.view(dtype).reshape(found_shape, order="F" if fortran else "C")


def _read_npy_header(
    stream: IO[bytes], member: str, dtype: np.dtype, shape: tuple[int, ...] | None
) -> tuple[tuple[int, ...], bool]:
    """The shape and Fortran order from ``member``'s ``.npy`` header, checked as ``read_npy``."""
    version = np.lib.format.read_magic(stream)
    if version not in _NPY_VERSIONS:
        raise FileProblem(f"{member} uses .npy format version {version}, not 1.0 or 2.0")
    found_shape, fortran, found_dtype = _NPY_VERSIONS[version](stream)
    if found_dtype.hasobject:
        raise FileProblem(f"{member} holds Python objects (a pickle); pmm never unpickles")
    found = f"{found_dtype.str}{list(found_shape)}"
    if shape is None and (found_dtype != dtype or len(found_shape) != 1):
        raise FileProblem(
            f"{member} holds {found}, not the 1-D {dtype.str} array of JSON text pmm writes "
            "(not a pmm file, or one written by an older pmm)"
        )
    if shape is not None and (found_dtype != dtype or found_shape != shape):
        raise FileProblem(f"{member} holds {found} but the header records {dtype.str}{list(shape)}")
    return found_shape, fortran


def _read_aligned(stream: Any, size: int, member: str) -> np.ndarray:
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
                f"{member} ends after {position} of its {size} data bytes (truncated)"
            )
        position += count
    return data


def needs_x64(name: str) -> bool:
    """Whether JAX, as configured now, would narrow dtype ``name`` (64-bit mode is off).

    Examples
    --------
    >>> needs_x64("float32")
    False
    """
    return jax.dtypes.canonicalize_dtype(DTYPES[name]) != DTYPES[name]
