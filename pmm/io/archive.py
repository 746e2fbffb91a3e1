"""The zip container of model files and checkpoints: one writer and one hardened reader.

A file is a zip archive of stored (uncompressed) ``.npy`` members, so ``numpy.load(path,
allow_pickle=False)`` reads it. ``header.npy`` holds the UTF-8 JSON header, whose ``"format"``
says what the file is and whose ``"arrays"`` object records every other member's tree path,
dtype and shape. The reader checks, before reading any array: that the path is a regular file;
that member names are unique ``.npy`` names; that members are stored and do not overlap one
another or the zip directory (so no two members share data, and the arrays together never take
more memory than the file's size); that every member is recorded and every record present.
"""

import json
import struct
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

import numpy as np

from pmm._atomic import atomic_write
from pmm.io.filesystem import open_regular
from pmm.io.npy import DTYPES, from_stored, read_npy, stored_dtype, to_stored
from pmm.io.problem import FileProblem

HEADER_MEMBER = "header.npy"
#: Headers are a few kilobytes per thousand modules or arrays; parsing JSON can take ~25 times
#: its size in memory, so a header above this size is refused, at save and at load.
MAX_HEADER_BYTES = 1 << 24
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, ..., name length, extra length
_LOCAL_SIGNATURE = b"PK\x03\x04"
_ZIP_ERRORS = (zipfile.BadZipFile, EOFError, OSError, ValueError, RuntimeError, NotImplementedError)


class Arrays:
    """The arrays a file will hold, by member name, and the header records describing them.

    Examples
    --------
    >>> arrays = Arrays()
    >>> arrays.add("params/0", jnp.ones((2, 3)), "params['w']")
    >>> arrays.records
    {'params/0': {'path': "params['w']", 'dtype': 'float32', 'shape': [2, 3]}}
    """

    def __init__(self) -> None:
        self.stored: dict[str, np.ndarray] = {}
        self.records: dict[str, dict[str, Any]] = {}

    def add(self, name: str, leaf: Any, where: str) -> None:
        """Add ``leaf`` (an array, else ``TypeError``) as member ``name``, found at ``where``."""
        self.stored[name], dtype = to_stored(leaf, where)
        self.records[name] = {"path": where, "dtype": dtype, "shape": list(self.stored[name].shape)}


def write_file(path: str, header: dict[str, Any], arrays: Arrays) -> None:
    """Write ``header`` with ``"arrays"`` (the records) and the arrays to ``path``, atomically.

    Raises ``ValueError`` when the header would exceed ``MAX_HEADER_BYTES``, so that nothing is
    saved that could not be loaded.
    """
    text = json.dumps({**header, "arrays": arrays.records}, allow_nan=False).encode()
    if len(text) > MAX_HEADER_BYTES:
        raise ValueError(
            f"the file's header would take {len(text)} bytes, more than pmm reads back "
            f"({MAX_HEADER_BYTES}): the model has too many modules or arrays for one file"
        )
    members = {HEADER_MEMBER: np.frombuffer(text, np.uint8)}
    members |= {f"{name}.npy": array for name, array in arrays.stored.items()}
    with (
        atomic_write(path) as file,
        zipfile.ZipFile(file, "w", zipfile.ZIP_STORED, allowZip64=True) as archive,
    ):
        for name, array in members.items():
            with archive.open(name, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


class StoredFile:
    """An open file whose layout and header have been checked; ``read_arrays`` reads the rest."""

    def __init__(self, archive: zipfile.ZipFile, header: dict[str, Any]) -> None:
        self._archive = archive
        #: The JSON header; its ``"arrays"`` records are well formed and match the members.
        self.header = header

    def read_arrays(self) -> dict[str, np.ndarray]:
        """Every recorded array by member name (without ``.npy``), checked against its record."""
        return {
            name: from_stored(
                read_npy(
                    self._archive,
                    f"{name}.npy",
                    stored_dtype(record["dtype"]),
                    tuple(record["shape"]),
                ),
                record["dtype"],
            )
            for name, record in self.header["arrays"].items()
        }


@contextmanager
def open_file(path: str, file_format: str) -> Iterator[StoredFile]:
    """Open the file at ``path``, check its layout and header, and give it for reading.

    The header's ``"format"`` must be ``file_format``. Raises ``FileProblem`` for every reason
    the file cannot be read: not a regular file, not a zip archive, members repeated, compressed,
    overlapping or not ``.npy``, a header that is not JSON or records arrays that are not there
    (or misses some that are), and, from ``read_arrays``, arrays that differ from their records.
    """
    with open_regular(path) as file:
        try:
            archive = zipfile.ZipFile(file)
        except _ZIP_ERRORS as error:
            raise FileProblem(f"not a zip archive, or truncated or corrupted ({error})") from None
        with archive:
            _check_layout(archive, file)
            header = _read_header(archive, file_format)
            names = {name.removesuffix(".npy") for name in archive.namelist()}
            _check_members(set(header["arrays"]), names)
            yield StoredFile(archive, header)


def _check_layout(archive: zipfile.ZipFile, file: BinaryIO) -> None:
    """Refuse members that repeat a name, are not ``.npy``, are compressed or overlap."""
    infos = archive.infolist()
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        raise FileProblem("the zip archive holds two members with the same name (corrupted)")
    previous, previous_end = None, 0
    for info in sorted(infos, key=lambda info: info.header_offset):
        if not info.filename.endswith(".npy"):
            raise FileProblem("the zip archive holds members that are not .npy arrays")
        if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
            # pmm stores members uncompressed; refusing others rules out decompression bombs.
            raise FileProblem(
                f"{info.filename} is compressed; pmm files store their arrays uncompressed"
            )
        if info.header_offset < previous_end:
            raise FileProblem(
                f"members {previous} and {info.filename} overlap: a crafted zip archive, whose "
                "arrays would share data"
            )
        previous, previous_end = info.filename, _data_end(file, info)
    if previous_end > getattr(archive, "start_dir", previous_end):
        raise FileProblem(f"member {previous} overlaps the zip directory (corrupted)")


def _data_end(file: BinaryIO, info: zipfile.ZipInfo) -> int:
    """Where ``info``'s data ends in ``file``, read from its local header."""
    file.seek(info.header_offset)
    local = file.read(_LOCAL_HEADER.size)
    if len(local) < _LOCAL_HEADER.size or local[:4] != _LOCAL_SIGNATURE:
        raise FileProblem(f"{info.filename} has no local header where the directory says")
    _, name_length, extra_length = _LOCAL_HEADER.unpack(local)
    return info.header_offset + _LOCAL_HEADER.size + name_length + extra_length + info.file_size


def _read_header(archive: zipfile.ZipFile, file_format: str) -> dict[str, Any]:
    """The JSON header, checked to be of ``file_format`` with well-formed array records."""
    if HEADER_MEMBER not in archive.namelist():
        raise FileProblem(f"no header.npy member: not a {file_format} file")
    if archive.getinfo(HEADER_MEMBER).file_size > MAX_HEADER_BYTES:
        raise FileProblem(
            f"header.npy is larger than {MAX_HEADER_BYTES} bytes: not a {file_format} header"
        )
    raw = read_npy(archive, HEADER_MEMBER, np.dtype(np.uint8), None)
    try:
        header = json.loads(raw.tobytes().decode())
    except ValueError as error:
        raise FileProblem(f"header.npy is not UTF-8 JSON ({error})") from None
    if not isinstance(header, dict) or header.get("format") != file_format:
        raise FileProblem(
            f'header.npy is not a {file_format} header (no "format": "{file_format}")'
        )
    records = header.get("arrays")
    if not isinstance(records, dict):
        raise FileProblem('the header is malformed: "arrays" is not an object of array records')
    for name, record in records.items():
        field = _malformed_field(record)
        if field:
            raise FileProblem(f"the header's record of array {name!r} is malformed ({field})")
    return header


def _malformed_field(record: Any) -> str:
    """What is wrong with an array record (``""`` if nothing)."""
    if not isinstance(record, dict):
        return f"a {type(record).__name__}, not an object"
    if not isinstance(record.get("dtype"), str) or record["dtype"] not in DTYPES:
        return f"'dtype' is {record.get('dtype')!r}, not one of {list(DTYPES)}"
    if not is_size_list(record.get("shape")):
        return f"'shape' is {record.get('shape')!r}, not a list of sizes"
    if not isinstance(record.get("path", ""), str):
        return "'path' is not a string"
    return ""


def is_size_list(value: Any, allow_none: bool = False) -> bool:
    """Whether ``value`` is a JSON list of non-negative ints (and ``None`` if allowed)."""
    return isinstance(value, list) and all(
        (size is None and allow_none) or (type(size) is int and size >= 0) for size in value
    )


def _check_members(recorded: set[str], present: set[str]) -> None:
    present.discard(HEADER_MEMBER.removesuffix(".npy"))
    missing, extra = sorted(recorded - present), sorted(present - recorded)
    if missing:
        raise FileProblem(f"arrays recorded in the header are missing: {missing}")
    if extra:
        raise FileProblem(f"the archive holds arrays the header does not record: {extra}")
