"""Documents: a JSON header and trees of arrays in one zip of ``.npy`` members, written atomically.

The layer under ``pmm.save`` / ``pmm.load`` and the other files pmm writes the same safe way (a
conformal calibration, for one). The header is a JSON object; each named tree (``params``,
``state``, ...) is stored in it by ``encode_tree``, its leaves as ``{"array": member}``, and
``header["arrays"]`` records every member's tree path, shape and dtype. Reading checks the
members against those records before any data is read, and never unpickles.

Examples
--------
>>> import jax.numpy as jnp
>>> write_document("scores.pmm", {"format": "demo"}, {"scores": [jnp.ones(3)]})  # doctest: +SKIP
>>> with open_archive("scores.pmm") as archive:  # doctest: +SKIP
...     header = read_header(archive)
...     trees = read_trees(archive, header, ("scores",))
"""

import json
import os
from typing import Any

import jax
import numpy as np

from pmm._atomic import atomic_write
from pmm.io.archive import (
    DTYPES,
    HEADER_MEMBER,
    FileProblem,
    from_stored,
    member_names,
    open_archive,
    read_member,
    stored_dtype,
    to_stored,
    write_archive,
)
from pmm.io.header import decode_tree, encode_tree

__all__ = ["is_size_list", "open_archive", "read_header", "read_trees", "write_document"]

#: A header is a few kilobytes per thousand modules; anything near this is not a pmm header.
MAX_HEADER_BYTES = 1 << 26


def write_document(
    path: str | os.PathLike[str], header: dict[str, Any], trees: dict[str, Any]
) -> None:
    """Write ``header`` plus each tree of ``trees`` (stored under its name) to ``path``, atomically.

    Trees are dicts (str keys), tuples, lists and None over array leaves (see
    ``pmm.io.archive.DTYPES``); ``TypeError`` names a leaf or container a file cannot hold.
    """
    arrays: dict[str, np.ndarray] = {}
    records: dict[str, dict[str, Any]] = {}

    def store(leaf: Any, where: str) -> dict[str, str]:
        name = f"{where.partition('[')[0]}/{len(arrays)}"
        arrays[name], dtype = to_stored(leaf, where)
        records[name] = {"path": where, "dtype": dtype, "shape": list(arrays[name].shape)}
        return {"array": name}

    encoded = {
        name: encode_tree(tree, store, lambda _: False, name) for name, tree in trees.items()
    }
    document = {**header, **encoded, "arrays": records}
    header_bytes = json.dumps(document, allow_nan=False).encode()
    with atomic_write(path) as file:
        write_archive(file, header_bytes, arrays)


def read_header(archive: Any) -> dict[str, Any]:
    """The JSON object in ``header.npy``; ``FileProblem`` if there is none or it is not JSON."""
    if f"{HEADER_MEMBER}.npy" not in archive.namelist():
        raise FileProblem("no header.npy member: not a pmm file")
    if archive.getinfo(f"{HEADER_MEMBER}.npy").file_size > MAX_HEADER_BYTES:
        raise FileProblem(f"header.npy is larger than {MAX_HEADER_BYTES} bytes: not a pmm header")
    raw = read_member(archive, HEADER_MEMBER, np.dtype(np.uint8), None)
    try:
        header = json.loads(raw.tobytes().decode())
    except ValueError as error:
        raise FileProblem(f"header.npy is not UTF-8 JSON ({error})") from None
    if not isinstance(header, dict):
        raise FileProblem("header.npy is not a JSON object")
    return header


def read_trees(archive: Any, header: dict[str, Any], names: tuple[str, ...]) -> tuple[Any, ...]:
    """The trees ``names`` of the document, their leaves read as JAX arrays, bit for bit.

    Raises ``FileProblem`` when an array record is malformed or needs 64-bit JAX while it is off,
    a member is missing or extra, a member differs from its record, or a tree names an array
    that is not recorded (or leaves one unused).
    """
    records = header.get("arrays")
    if not isinstance(records, dict):
        raise FileProblem("the header is malformed (missing ['arrays'])")
    for name, record in records.items():
        if (
            not isinstance(record, dict)
            or record.get("dtype") not in DTYPES
            or not is_size_list(record.get("shape"))
        ):
            raise FileProblem(f"the header's record of array {name!r} is malformed")
        if jax.dtypes.canonicalize_dtype(DTYPES[record["dtype"]]) != DTYPES[record["dtype"]]:
            raise FileProblem(
                f"{record.get('path', name)} is {record['dtype']}, which needs 64-bit JAX: call "
                "jax.config.update('jax_enable_x64', True) before loading"
            )
    _check_members(set(records), member_names(archive))
    loaded = {
        name: from_stored(
            read_member(archive, name, stored_dtype(record["dtype"]), tuple(record["shape"])),
            record["dtype"],
        )
        for name, record in records.items()
    }
    trees = tuple(_decode_arrays(header.get(name), loaded, name) for name in names)
    if loaded:
        raise FileProblem(f"the header records arrays that no tree uses: {sorted(loaded)}")
    return trees


def is_size_list(value: Any, allow_none: bool = False) -> bool:
    """Whether ``value`` is a JSON list of sizes (ints >= 0, and ``None`` if ``allow_none``)."""
    return isinstance(value, list) and all(
        (size is None and allow_none) or (type(size) is int and size >= 0) for size in value
    )


def _check_members(recorded: set[str], present: set[str]) -> None:
    missing, extra = sorted(recorded - present), sorted(present - recorded)
    if missing:
        raise FileProblem(f"arrays recorded in the header are missing: {missing}")
    if extra:
        raise FileProblem(f"the archive holds arrays the header does not record: {extra}")


def _decode_arrays(tree: Any, loaded: dict[str, np.ndarray], root: str) -> Any:
    def leaf(tag: str, value: Any, where: str) -> jax.Array:
        if tag != "array" or value not in loaded:
            raise FileProblem(f"header entry at {where} names no recorded array")
        return jax.device_put(loaded.pop(value))  # adopts the aligned buffer: no copy on CPU

    return decode_tree(tree, leaf, root)
