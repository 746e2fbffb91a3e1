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

import os
from typing import Any

from pmm.errors import LoadError, ShapeError
from pmm.io.archive import FileProblem
from pmm.io.document import (
    is_size_list,
    open_archive,
    read_header,
    read_trees,
    write_document,
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
        "pmm_version": pmm_version(),
        "module": module_json,
        "input_shape": shape_json,
    }
    write_document(path, header, {"params": params, "state": state})


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
        params, state = read_trees(archive, header, ("params", "state"))
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
    header = read_header(archive)
    if header.get("format") != "pmm":
        raise FileProblem('header.npy is not a pmm header (no "format": "pmm")')
    header = upgrade_header(header)
    missing = {"module", "params", "state", "arrays", "input_shape"} - set(header)
    if missing:
        raise FileProblem(f"the header is malformed (missing {sorted(missing)})")
    return header


def _decode_shape(tag: str, value: Any, where: str) -> tuple[int | None, ...]:
    if tag != "shape" or not is_size_list(value, allow_none=True):
        raise FileProblem(f"header entry at {where} is not a shape")
    return tuple(value)


def pmm_version() -> str:
    """The version of pmm that writes files (``pmm.__version__``)."""
    from pmm import __version__

    return __version__
