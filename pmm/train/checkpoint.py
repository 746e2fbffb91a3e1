"""Training checkpoints: the whole training state in one file, written atomically.

A checkpoint is the container model files use (``pmm.io.archive``, ``docs/format.md``): a zip of
``.npy`` members and a JSON header, written by the same writer and read by the same hardened
reader, so a damaged or crafted checkpoint is a ``pmm.LoadError`` naming the file. The header
holds ``"format": "pmm-checkpoint"``, the run's ``setup``, the PRNG implementation and the
history's names; the members are the state's leaves (``state/<i>``, in
``jax.tree.leaves`` order), the key data (``rng``) and each history series
(``history_<name>``). Restoring needs a template (the state a fresh run would start from) that
gives the tree structure; the saved leaves must match it in order, path, shape and dtype.

``setup`` identifies the run: a dict of JSON values (str keys). A resumed run must have the same
setup, compared key by key (nested dicts too); a mismatch names every entry that differs.
"""

import json
import math
import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from pmm.errors import LoadError
from pmm.io.archive import Arrays, open_file, write_file
from pmm.io.filesystem import file_path
from pmm.io.problem import FileProblem, shortened

FORMAT = "pmm-checkpoint"
FORMAT_VERSION = 2
#: Differences a setup mismatch lists before "and N more"; characters shown of each value.
_SHOWN_DIFFERENCES = 6
_SHOWN_CHARACTERS = 40
_AFRESH = "To start afresh, pass resume=False or delete the file"


def save_checkpoint(
    path: str | bytes | os.PathLike[str],
    state: Any,
    rng: jax.Array,
    history: dict[str, np.ndarray],
    setup: dict[str, Any],
) -> None:
    """Write ``state`` (a PyTree of arrays), ``rng``, ``history`` and ``setup`` to ``path``.

    ``setup`` (JSON values under str keys; non-finite floats allowed) identifies the run; a
    resumed run must bring the same. In a multi-process run only process 0 writes (every array
    is replicated). Raises ``TypeError`` for a ``path`` that is not a path and for a ``setup``
    that is not JSON-able.
    """
    path = file_path(path, "checkpoint")
    canonical_setup = _jsonable(setup, "setup")
    if jax.process_index() != 0:
        return
    import pmm

    arrays = Arrays()
    for index, (key_path, leaf) in enumerate(jax.tree_util.tree_leaves_with_path(state)):
        arrays.add(f"state/{index}", leaf, "state" + jax.tree_util.keystr(key_path))
    arrays.add("rng", jax.random.key_data(rng), "rng")
    for name, values in history.items():
        arrays.add(f"history_{name}", values, f"history[{name!r}]")
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "pmm_version": pmm.__version__,
        "setup": canonical_setup,
        "rng_impl": str(jax.random.key_impl(rng)),
        "history": sorted(history),
    }
    write_file(path, header, arrays)


def load_checkpoint(
    path: str | bytes | os.PathLike[str], template: Any, setup: dict[str, Any]
) -> tuple[Any, jax.Array, dict[str, np.ndarray]]:
    """``(state, rng, history)`` from ``path``; ``state`` has ``template``'s tree structure.

    Raises ``pmm.LoadError`` naming the file and the reason: the file is damaged or not a
    checkpoint, it belongs to another run (its setup differs from ``setup``: every differing
    entry is named, saved and now), or its arrays do not fit ``template``.
    """
    name = file_path(path, "checkpoint")
    try:
        with open_file(name, FORMAT) as stored:
            header = _checked_header(stored.header)
            _check_setup(header["setup"], _jsonable(setup, "setup"))
            leaves, treedef = jax.tree_util.tree_flatten_with_path(template)
            _check_members(header, len(leaves))
            _check_leaves(header["arrays"], leaves)
            arrays = stored.read_arrays()
        state = [jnp.asarray(arrays[f"state/{index}"]) for index in range(len(leaves))]
        rng = _key(header["rng_impl"], arrays["rng"])
        history = {series: arrays[f"history_{series}"] for series in header["history"]}
        _check_history(history)
    except FileProblem as problem:
        raise LoadError(
            f"cannot resume from checkpoint {name!r}: {shortened(str(problem))}. {_AFRESH}"
        ) from problem.__cause__
    except (RecursionError, MemoryError) as error:
        raise LoadError(
            f"cannot resume from checkpoint {name!r}: its header is too large or nests too "
            f"deeply ({type(error).__name__}). {_AFRESH}"
        ) from None
    return jax.tree.unflatten(treedef, state), rng, history


def _checked_header(header: dict[str, Any]) -> dict[str, Any]:
    """``header`` if it holds every field of this format version, of the right types."""
    version = header.get("format_version")
    if type(version) is not int or version != FORMAT_VERSION:
        raise FileProblem(
            f"it is of checkpoint format version {version!r}, but this pmm reads version "
            f"{FORMAT_VERSION}"
        )
    fields = {"setup": dict, "rng_impl": str, "history": list}
    for field, kind in fields.items():
        if not isinstance(header.get(field), kind):
            raise FileProblem(f"the header's {field!r} is not a {kind.__name__} (malformed)")
    series = header["history"]
    if not all(isinstance(name, str) for name in series) or len(set(series)) != len(series):
        raise FileProblem("the header's 'history' is not a list of distinct names (malformed)")
    return header


def _check_members(header: dict[str, Any], leaf_count: int) -> None:
    """The header records exactly the state leaves, ``rng`` and one member per history series."""
    saved_leaves = sum(name.startswith("state/") for name in header["arrays"])
    if saved_leaves != leaf_count:
        raise FileProblem(
            f"it holds {saved_leaves} arrays but this run's params, state and optimizer state "
            f"have {leaf_count}; resume with the same model, trainable selection and optimizer"
        )
    expected = {f"state/{index}" for index in range(leaf_count)} | {"rng"}
    expected |= {f"history_{series}" for series in header["history"]}
    if set(header["arrays"]) != expected:
        odd = sorted(set(header["arrays"]) ^ expected)
        raise FileProblem(f"its arrays do not match its header's lists (see {odd[:4]})")


def _check_leaves(records: dict[str, Any], template: list[Any]) -> None:
    for index, (key_path, leaf) in enumerate(template):
        record, where = records[f"state/{index}"], "state" + jax.tree_util.keystr(key_path)
        if record.get("path", where) != where:
            raise FileProblem(
                f"array {index} is {record['path']} in the checkpoint but {where} in this run; "
                "resume with the same model, trainable selection and optimizer"
            )
        saved = (tuple(record["shape"]), record["dtype"])
        expected = (tuple(leaf.shape), jnp.dtype(leaf.dtype).name)
        if saved != expected:
            raise FileProblem(
                f"array {jax.tree_util.keystr(key_path)} has shape {saved[0]} dtype {saved[1]}, "
                f"but this run expects shape {expected[0]} dtype {expected[1]}; resume with the "
                "same model, optimizer and dtypes"
            )


def _key(impl: str, data: np.ndarray) -> jax.Array:
    try:
        return jax.random.wrap_key_data(jnp.asarray(data), impl=impl)
    except Exception as error:
        raise FileProblem(f"its rng is not a {impl!r} key ({error})") from None


def _check_history(history: dict[str, np.ndarray]) -> None:
    lengths = {len(values) for values in history.values() if values.ndim == 1}
    if any(values.ndim != 1 or values.dtype.kind != "f" for values in history.values()):
        raise FileProblem("its history holds arrays that are not 1-D float series (malformed)")
    if len(lengths) > 1:
        raise FileProblem(f"its history series differ in length ({sorted(lengths)}; malformed)")


def _check_setup(saved: dict[str, Any], now: dict[str, Any]) -> None:
    differences = _differences(saved, now, "")
    if differences:
        shown = "; ".join(differences[:_SHOWN_DIFFERENCES])
        more = len(differences) - _SHOWN_DIFFERENCES
        raise FileProblem(
            f"it was written by another run: {shown}{f'; and {more} more' if more > 0 else ''}; "
            "resume with the same setup"
        )


def _differences(saved: Any, now: Any, where: str) -> list[str]:
    """``"<entry>: <saved> in the file, <now> now"`` for every entry where they differ."""
    if isinstance(saved, dict) and isinstance(now, dict):
        found = []
        for key in sorted(saved.keys() | now.keys()):
            entry = f"{where}.{key}" if where else key
            if key not in saved:
                found.append(f"{entry}: not in the file, {_short(now[key])} now")
            elif key not in now:
                found.append(f"{entry}: {_short(saved[key])} in the file, not given now")
            else:
                found += _differences(saved[key], now[key], entry)
        return found
    if isinstance(saved, list) and isinstance(now, list) and len(saved) == len(now):
        return [
            difference
            for index, (left, right) in enumerate(zip(saved, now, strict=True))
            for difference in _differences(left, right, f"{where}[{index}]")
        ]
    if saved == now and isinstance(saved, bool) == isinstance(now, bool):
        return []
    return [f"{where}: {_short(saved)} in the file, {_short(now)} now"]


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= _SHOWN_CHARACTERS else f"{text[: _SHOWN_CHARACTERS - 3]}..."


def _jsonable(value: Any, where: str) -> Any:
    """``value`` as plain JSON: tuples as lists, NumPy scalars as Python numbers, non-finite
    floats as ``{"float": "nan"}`` (so a setup holding NaN still equals itself)."""
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        value = value.item()
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, list | tuple):
        return [_jsonable(item, f"{where}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {key: _jsonable(item, f"{where}[{key!r}]") for key, item in value.items()}
    raise TypeError(
        f"{where} holds a {type(value).__name__}; a checkpoint's setup holds JSON values "
        "(None, bool, int, float, str, lists and dicts with str keys)"
    )
