"""Save and load a model: its module tree, params and state, in one safe, atomic file.

The file is a zip archive of ``.npy`` members that ``numpy.load(path, allow_pickle=False)``
reads: ``header.npy`` holds UTF-8 JSON (format version, pmm version, the module tree as
registered class names plus hyperparameters, and every params/state leaf's tree path, shape and
dtype) and each leaf is one more member. ``docs/format.md`` describes it for other tools.

Examples
--------
>>> import jax, pmm
>>> model = pmm.nn.Linear(features=2) >> pmm.nn.Tanh()
>>> params, state = model.init(jax.random.key(0), (3,))
>>> pmm.save("model.pmm", model, params, state, input_shape=(3,))  # doctest: +SKIP
>>> model, params, state = pmm.load("model.pmm")  # doctest: +SKIP
"""

import json
import os
from typing import Any

import jax
import numpy as np

from pmm._atomic import atomic_write
from pmm.errors import LoadError, ShapeError
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
from pmm.io.header import (
    FORMAT_VERSION,
    decode_module,
    decode_tree,
    encode_module,
    encode_tree,
    upgrade_header,
)
from pmm.io.init_check import init_mismatch
from pmm.module import Module
from pmm.shapes import is_shape, validate_shape
from pmm.typing import DataShape, Params, State

__all__ = ["FORMAT_VERSION", "load", "save"]

#: A header is a few kilobytes per thousand modules; anything near this is not a pmm header.
_MAX_HEADER_BYTES = 1 << 26


def save(
    path: str | os.PathLike[str],
    module: Module,
    params: Params,
    state: State = (),
    *,
    input_shape: DataShape | None = None,
) -> None:
    """Write ``module``, ``params`` and ``state`` to the file ``path``, atomically.

    Parameters
    ----------
    path
        The file to write; any previous file there is replaced only once the new one is complete.
    module
        Any module tree of registered classes (built-ins, combinators, your own subclasses).
    params, state
        Trees of dicts (str keys), tuples, lists and None whose leaves are arrays of dtype bool,
        (u)int8-64, float16/32/64, bfloat16 or complex64/128, as ``module.init`` built them.
    input_shape
        The ``DataShape`` (no batch axis) the params were built for. When given it is stored,
        and ``params``/``state`` must match what ``module.init`` builds for it (shapes and dtypes,
        checked with ``jax.eval_shape``), now and again at load.

    Raises
    ------
    TypeError
        A hyperparameter, container or leaf that a pmm file cannot hold.
    pmm.ShapeError
        ``params``/``state`` differ from what ``module.init`` builds for ``input_shape``.

    Examples
    --------
    >>> linear = pmm.nn.Linear(features=2)
    >>> params, state = linear.init(jax.random.key(0), (3,))
    >>> pmm.save("linear.pmm", linear, params, input_shape=(3,))  # doctest: +SKIP
    """
    module_json = _encode_loadable(module)
    arrays: dict[str, np.ndarray] = {}
    records: dict[str, dict[str, Any]] = {}

    def store(leaf: Any, where: str) -> dict[str, str]:
        name = f"{where.partition('[')[0]}/{len(arrays)}"
        arrays[name], dtype = to_stored(leaf, where)
        records[name] = {"path": where, "dtype": dtype, "shape": list(arrays[name].shape)}
        return {"array": name}

    params_json = encode_tree(params, store, lambda _: False, "params")
    state_json = encode_tree(state, store, lambda _: False, "state")
    shape_json = None
    if input_shape is not None:
        validate_shape(input_shape)
        mismatch = init_mismatch(module, input_shape, params, state, "as given")
        if mismatch:
            raise ShapeError(f"cannot save: {mismatch}")
        shape_json = encode_tree(input_shape, lambda s, _: {"shape": list(s)}, is_shape, "")
    header = {
        "format": "pmm",
        "format_version": FORMAT_VERSION,
        "pmm_version": _pmm_version(),
        "module": module_json,
        "input_shape": shape_json,
        "params": params_json,
        "state": state_json,
        "arrays": records,
    }
    header_bytes = json.dumps(header, allow_nan=False).encode()
    with atomic_write(path) as file:
        write_archive(file, header_bytes, arrays)


def _encode_loadable(module: Module) -> dict[str, Any]:
    """``encode_module(module)``, checked to load back as the same module tree."""
    module_json = encode_module(module)
    try:
        rebuilt = encode_module(decode_module(module_json))
    except FileProblem as problem:
        raise TypeError(f"{module!r} would not load back: {problem}") from problem.__cause__
    if rebuilt != module_json:
        raise TypeError(
            f"{module!r} does not rebuild from its hyperparameters; "
            "override from_hyperparams so that it does"
        )
    return module_json


def load(path: str | os.PathLike[str]) -> tuple[Module, Params, State]:
    """Read ``(module, params, state)`` back from a file written by ``pmm.save``.

    Arrays come back as JAX arrays, bit for bit, with their saved dtypes and tree structure
    (tuples stay tuples). Module classes are looked up in pmm's registry, so import the modules
    that define your own classes first; a class whose ``version`` is newer than the file's
    converts the saved hyperparameters with its ``upgrade`` classmethod.

    Raises
    ------
    pmm.LoadError
        The file is missing, not a pmm file, truncated or corrupted; its format or a class
        version is newer than this pmm; a class is not registered; a member holds a pickle;
        arrays are missing or extra, or differ in shape or dtype from the header or from what
        ``module.init`` builds for the saved ``input_shape``. The message names the file.

    Examples
    --------
    >>> model, params, state = pmm.load("model.pmm")  # doctest: +SKIP
    """
    try:
        return _load(path)
    except FileProblem as problem:
        raise LoadError(f"cannot load {os.fspath(path)}: {problem}") from problem.__cause__
    except RecursionError:
        raise LoadError(f"cannot load {os.fspath(path)}: its header nests too deeply") from None


def _load(path: str | os.PathLike[str]) -> tuple[Module, Params, State]:
    """``load`` itself; raises ``FileProblem`` for every reason the file cannot be loaded."""
    with open_archive(path) as archive:
        header = _read_header(archive)
        module = decode_module(header["module"])
        records = header["arrays"]
        _check_members(set(records), member_names(archive))
        loaded = {
            name: from_stored(
                read_member(archive, name, stored_dtype(record["dtype"]), tuple(record["shape"])),
                record["dtype"],
            )
            for name, record in records.items()
        }
    params, state = (_decode_arrays(header[key], loaded, key) for key in ("params", "state"))
    if loaded:
        raise FileProblem(f"the header records arrays that no tree uses: {sorted(loaded)}")
    if header["input_shape"] is not None:
        input_shape = decode_tree(header["input_shape"], _decode_shape, "input_shape")
        try:
            mismatch = init_mismatch(module, input_shape, params, state, "in the file")
        except Exception as error:
            raise FileProblem(
                f"{module!r}.init fails for the saved input_shape {input_shape}: {error}"
            ) from error
        if mismatch:
            raise FileProblem(mismatch)
    return module, params, state


def _read_header(archive: Any) -> dict[str, Any]:
    """The header JSON, upgraded to the current format and checked for the fields load uses."""
    if f"{HEADER_MEMBER}.npy" not in archive.namelist():
        raise FileProblem("no header.npy member: not a pmm file")
    if archive.getinfo(f"{HEADER_MEMBER}.npy").file_size > _MAX_HEADER_BYTES:
        raise FileProblem(f"header.npy is larger than {_MAX_HEADER_BYTES} bytes: not a pmm header")
    raw = read_member(archive, HEADER_MEMBER, np.dtype(np.uint8), None)
    try:
        header = json.loads(raw.tobytes().decode())
    except ValueError as error:
        raise FileProblem(f"header.npy is not UTF-8 JSON ({error})") from None
    if not isinstance(header, dict) or header.get("format") != "pmm":
        raise FileProblem('header.npy is not a pmm header (no "format": "pmm")')
    header = upgrade_header(header)
    missing = {"module", "params", "state", "arrays", "input_shape"} - set(header)
    if missing or not isinstance(header["arrays"], dict):
        raise FileProblem(f"the header is malformed (missing {sorted(missing) or ['arrays']})")
    for name, record in header["arrays"].items():
        if (
            not isinstance(record, dict)
            or record.get("dtype") not in DTYPES
            or not _is_size_list(record.get("shape"))
        ):
            raise FileProblem(f"the header's record of array {name!r} is malformed")
        if jax.dtypes.canonicalize_dtype(DTYPES[record["dtype"]]) != DTYPES[record["dtype"]]:
            raise FileProblem(
                f"{record.get('path', name)} is {record['dtype']}, which needs 64-bit JAX: call "
                "jax.config.update('jax_enable_x64', True) before loading"
            )
    return header


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


def _decode_shape(tag: str, value: Any, where: str) -> tuple[int | None, ...]:
    if tag != "shape" or not _is_size_list(value, allow_none=True):
        raise FileProblem(f"header entry at {where} is not a shape")
    return tuple(value)


def _is_size_list(value: Any, allow_none: bool = False) -> bool:
    return isinstance(value, list) and all(
        (size is None and allow_none) or (type(size) is int and size >= 0) for size in value
    )


def _pmm_version() -> str:
    from pmm import __version__

    return __version__
