"""Save and load a model: its module tree, params and state, in one safe, atomic file.

The file is a zip archive of ``.npy`` members that ``numpy.load(path, allow_pickle=False)``
reads: ``header.npy`` holds UTF-8 JSON (format version, pmm version, the module tree as
registered class names plus hyperparameters, and every params/state leaf's tree path, shape and
dtype) and each leaf is one more member. ``docs/format.md`` describes it for other tools.

Loading costs time and memory in proportion to the file's size, whatever the file holds: only
regular files are read, members must not overlap, arrays are checked against the header before
their data is read, and a header that names a far bigger model than its arrays is refused before
``init`` is traced.

Examples
--------
>>> import jax, pmm
>>> model = pmm.nn.Linear(features=2) >> pmm.nn.Tanh()
>>> params, state = model.init(jax.random.key(0), (3,))
>>> pmm.save("model.pmm", model, params, state, input_shape=(3,))  # doctest: +SKIP
>>> model, params, state = pmm.load("model.pmm")  # doctest: +SKIP
"""

import os
import warnings
from typing import Any

from pmm.errors import LoadError, ShapeError
from pmm.io.archive import Arrays, open_file, write_file
from pmm.io.filesystem import file_path
from pmm.io.header import (
    FORMAT_VERSION,
    decode_module,
    encode_module,
    upgrade_header,
)
from pmm.io.init_check import check_expansion, init_mismatch
from pmm.io.input_shape import decode_input_shape, encode_input_shape
from pmm.io.npy import needs_x64
from pmm.io.problem import FileProblem, shortened
from pmm.io.trees import load_tree, store_tree
from pmm.module import Module
from pmm.typing import DataShape, Params, State

__all__ = ["FORMAT_VERSION", "load", "save"]

_FORMAT = "pmm"


def save(
    path: str | bytes | os.PathLike[str],
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
        The file to write (``str``, ``bytes`` or ``os.PathLike``; not a file object); any
        previous file there is replaced only once the new one is complete, and keeps its
        permissions (a new file gets ``0o666`` less the umask). A symlink is written through:
        the file it points to is replaced and the link stays.
    module
        Any module tree of registered classes (built-ins, combinators, your own subclasses).
        A class defined in ``__main__`` draws a ``UserWarning``: the file then loads only where
        ``__main__`` defines that class again (give it ``register_as=...``).
    params, state
        Trees of dicts (str keys), tuples, lists and None whose leaves are arrays of dtype bool,
        (u)int8-64, float16/32/64, bfloat16 or complex64/128, as ``module.init`` built them.
    input_shape
        The ``DataShape`` (no batch axis) the params were built for; a leaf may be a
        ``jax.ShapeDtypeStruct`` to record the data's dtype too (integer ids, say). When given it
        is stored, and ``params``/``state`` must match what ``module.init`` builds for it (shapes
        and dtypes, checked with ``jax.eval_shape``), now and again at load.

    Raises
    ------
    TypeError
        ``path`` is not a path; a hyperparameter, container or leaf that a pmm file cannot hold,
        or a 64-bit leaf while ``jax_enable_x64`` is off (``pmm.load`` could not load it back).
    ValueError
        ``input_shape`` is not a ``DataShape``, or the header would exceed 16 MiB (millions of
        modules or arrays), more than ``pmm.load`` reads.
    IsADirectoryError, FileExistsError
        ``path`` is a directory, or a device, FIFO or socket (never replaced).
    pmm.ShapeError
        ``params``/``state`` differ from what ``module.init`` builds for ``input_shape``.

    Examples
    --------
    >>> linear = pmm.nn.Linear(features=2)
    >>> params, state = linear.init(jax.random.key(0), (3,))
    >>> pmm.save("linear.pmm", linear, params, input_shape=(3,))  # doctest: +SKIP
    """
    path = file_path(path)
    module_json = _encode_loadable(module)
    arrays = Arrays()
    params_json = store_tree(arrays, params, "params")
    state_json = store_tree(arrays, state, "state")
    shape_json = None
    if input_shape is not None:
        shape_json = encode_input_shape(input_shape)
        mismatch = init_mismatch(module, input_shape, params, state, "as given")
        if mismatch:
            raise ShapeError(f"cannot save: {mismatch}")
    header = {
        "format": _FORMAT,
        "format_version": FORMAT_VERSION,
        "pmm_version": _pmm_version(),
        "module": module_json,
        "input_shape": shape_json,
        "params": params_json,
        "state": state_json,
    }
    _warn_about_main(module_json)
    write_file(path, header, arrays)


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


def _warn_about_main(module_json: Any) -> None:
    names = sorted(_classes_in_main(module_json))
    if names:
        warnings.warn(
            f"{', '.join(names)} is defined in __main__, so the file loads only where __main__ "
            "defines it again (in the same script); to load it anywhere, define the class in an "
            'importable module or name it: class Mine(pmm.Module, register_as="lab.Mine")',
            UserWarning,
            stacklevel=3,
        )


def _classes_in_main(node: Any) -> set[str]:
    """The registry names starting with ``__main__.`` in a module's JSON form."""
    if isinstance(node, list):
        return set().union(*map(_classes_in_main, node))
    if not isinstance(node, dict):
        return set()
    found = set().union(*map(_classes_in_main, node.values()))
    name = node.get("class")
    if isinstance(name, str) and name.startswith("__main__."):
        found.add(name.removeprefix("__main__."))
    return found


def load(path: str | bytes | os.PathLike[str]) -> tuple[Module, Params, State]:
    """Read ``(module, params, state)`` back from a file written by ``pmm.save``.

    Arrays come back as JAX arrays, bit for bit, with their saved dtypes and tree structure
    (tuples stay tuples). Module classes are looked up in pmm's registry, so import the modules
    that define your own classes first; a class whose ``version`` is newer than the file's
    converts the saved hyperparameters with its ``upgrade`` classmethod. ``path`` is a ``str``,
    ``bytes`` or ``os.PathLike`` naming a regular file (or a symlink to one); file objects are
    not accepted. Loading takes time and memory in proportion to the file's size.

    Raises
    ------
    TypeError
        ``path`` is not a path.
    pmm.LoadError
        The file is missing, not a regular file, not a pmm file, truncated or corrupted (members
        that overlap or are compressed included); its format or a class version is newer than
        this pmm; a class is not registered; a member holds a pickle; the header is malformed;
        arrays are missing or extra, or differ in shape or dtype from the header or from what
        ``module.init`` builds for the saved ``input_shape``. The message names the file.

    Examples
    --------
    >>> model, params, state = pmm.load("model.pmm")  # doctest: +SKIP
    """
    name = file_path(path)
    try:
        return _load(name)
    except FileProblem as problem:
        raise LoadError(f"cannot load {name}: {shortened(str(problem))}") from problem.__cause__
    except RecursionError:
        raise LoadError(f"cannot load {name}: its header nests too deeply") from None
    except MemoryError:
        raise LoadError(f"cannot load {name}: it needs more memory than is available") from None


def _load(path: str) -> tuple[Module, Params, State]:
    """``load`` itself; raises ``FileProblem`` for every reason the file cannot be loaded."""
    with open_file(path, _FORMAT) as stored:
        header = _checked_header(stored.header)
        module = decode_module(header["module"])
        input_shape = None
        if header["input_shape"] is not None:
            input_shape = decode_input_shape(header["input_shape"])
        arrays = stored.read_arrays()
    params, state = (load_tree(header[key], arrays, key) for key in ("params", "state"))
    if arrays:
        raise FileProblem(f"the header records arrays that no tree uses: {sorted(arrays)}")
    if input_shape is not None:
        check_expansion(module, params, state)
        try:
            mismatch = init_mismatch(module, input_shape, params, state, "in the file")
        except Exception as error:
            raise FileProblem(
                f"{type(module).__name__}.init fails for the saved input_shape: {error}"
            ) from error
        if mismatch:
            raise FileProblem(mismatch)
    return module, params, state


def _checked_header(header: dict[str, Any]) -> dict[str, Any]:
    """The header upgraded to the current format, checked for the fields load uses."""
    header = upgrade_header(header)
    missing = {"module", "params", "state", "input_shape"} - set(header)
    if missing:
        raise FileProblem(f"the header is malformed (missing {sorted(missing)})")
    for name, record in header["arrays"].items():
        if needs_x64(record["dtype"]):
            raise FileProblem(
                f"{record.get('path', name)} is {record['dtype']}, which needs 64-bit JAX: call "
                "jax.config.update('jax_enable_x64', True) before loading"
            )
    return header


def _pmm_version() -> str:
    from pmm import __version__

    return __version__
