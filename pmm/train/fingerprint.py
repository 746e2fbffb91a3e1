"""What identifies a training run, so that ``resume=True`` refuses a checkpoint of another run.

``run_setup`` describes a fit as a JSON-able dict with ``str`` keys: the model's spec, the loss,
the optimizer (the layout of its state and a digest of its settings), a digest of the data, and
every argument that shapes the trajectory. ``fit`` stores it in each checkpoint, and resuming
compares it entry by entry: a run rebuilt with ``tanh`` in place of ``relu``, ``adamw`` in place
of ``adam``, another learning rate or other data of the same shape is refused, naming what
differs, instead of continuing silently as if it were the same run.

The optimizer's settings are read from what its functions close over (numbers, strings, arrays
and the names of nested functions: ``optax.adam(1e-3)`` closes over ``1e-3``), which is the same
in every process; an object it cannot look into counts by its class name only.
"""

import functools
import hashlib
import json
import math
import types
from typing import Any

import jax
import numpy as np
import optax

from pmm.io.header import encode_module
from pmm.module import Module
from pmm.train.batches import Dataset
from pmm.train.epoch import layout

#: How deep ``_describe`` follows closures and containers; deeper values count by type only.
_DEPTH = 16


def run_setup(
    *,
    model: Module,
    loss: Any,
    optimizer: optax.GradientTransformation,
    opt_state: Any,
    data: Dataset,
    validation: Dataset | None,
    mask: Any,
    key: jax.Array,
    options: dict[str, Any],
) -> dict[str, Any]:
    """The setup of a fit, JSON-able: one entry per thing that must match for a resume.

    ``options`` are the fit's other trajectory-shaping arguments (batch sizes, early stopping,
    ``restore_best``, the callback), given as JSON-able values; they are stored as they are.

    Examples
    --------
    >>> import jax, jax.numpy as jnp, optax, pmm
    >>> from pmm.train.batches import dataset
    >>> model = pmm.nn.Linear(features=1)
    >>> params, _ = model.init(jax.random.key(0), (2,))
    >>> data = dataset(jnp.ones((4, 2)), jnp.ones((4, 1)), None, "")
    >>> setup = run_setup(
    ...     model=model, loss="mse", optimizer=optax.adam(1e-3),
    ...     opt_state=optax.adam(1e-3).init(params), data=data, validation=None,
    ...     mask=jax.tree.map(lambda _: True, params), key=jax.random.key(0),
    ...     options={"batch_size": 4},
    ... )  # fmt: skip
    >>> sorted(setup)[:5]
    ['batch_size', 'data', 'loss', 'model', 'optimizer_settings']
    """
    return {
        "samples": int(data.weight.shape[0]),
        "model": _module_spec(model),
        "loss": loss if isinstance(loss, str) else _name(loss),
        "optimizer_state": layout(opt_state),
        "optimizer_settings": _digest(_describe(optimizer, set(), 0)),
        "data": data_digest(data),
        "validation_data": None if validation is None else data_digest(validation),
        "trainable": [bool(flag) for flag in jax.tree.leaves(mask)],
        "rng": {
            "impl": str(jax.random.key_impl(key)),
            "data": np.asarray(jax.random.key_data(key)).tolist(),
        },
        **options,
    }


def data_digest(data: Dataset) -> str:
    """A hex digest of every array of ``data`` (its tree paths, dtypes, shapes and bytes)."""
    digest = hashlib.blake2b(digest_size=16)
    for path, leaf in jax.tree_util.tree_leaves_with_path(data):
        digest.update(f"{jax.tree_util.keystr(path)}:{_array_digest(leaf)};".encode())
    return digest.hexdigest()


def _array_digest(leaf: Any) -> str:
    """``dtype[shape]:digest`` of an array's bytes."""
    array = np.ascontiguousarray(np.asarray(leaf))
    digest = hashlib.blake2b(array.view(np.uint8).data, digest_size=16).hexdigest()
    return f"{array.dtype.name}{list(array.shape)}:{digest}"


def callable_name(function: Any) -> str | None:
    """``module.qualname`` of a function (``None`` for ``None``): the same in every process."""
    return None if function is None else _name(function)


def _name(function: Any) -> str:
    if isinstance(function, functools.partial):
        return f"functools.partial({_name(function.func)})"
    qualname = getattr(function, "__qualname__", None) or type(function).__qualname__
    return f"{getattr(function, '__module__', None) or type(function).__module__}.{qualname}"


def _module_spec(model: Module) -> Any:
    """The model as ``pmm.save`` would write it, or its ``repr`` if it cannot be saved."""
    try:
        return encode_module(model)
    except TypeError:
        return repr(model)


def _digest(description: Any) -> str:
    text = json.dumps(description, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _describe(value: Any, seen: set[int], depth: int) -> Any:
    """A JSON-able description of ``value`` that is the same in every process: plain values as
    they are, arrays by digest, functions by name with what they close over, others by type."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, np.generic | np.ndarray | jax.Array):
        return _array_digest(value)
    if isinstance(value, type | np.dtype):
        return str(value)
    if depth >= _DEPTH or id(value) in seen:
        return type(value).__qualname__
    seen = seen | {id(value)}
    inner = functools.partial(_describe, seen=seen, depth=depth + 1)
    if isinstance(value, types.FunctionType):
        cells = []
        for cell in value.__closure__ or ():
            try:
                cells.append(inner(cell.cell_contents))
            except ValueError:  # a cell not filled yet
                cells.append(None)
        defaults = [inner(item) for item in value.__defaults__ or ()]
        return {"function": _name(value), "closure": cells, "defaults": defaults}
    if isinstance(value, functools.partial):
        return {
            "partial": inner(value.func),
            "args": inner(value.args),
            "keywords": inner(value.keywords),
        }
    if isinstance(value, tuple | list):
        return [inner(item) for item in value]
    if isinstance(value, dict):
        return {str(key): inner(item) for key, item in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(json.dumps(inner(item), sort_keys=True, default=str) for item in value)
    if hasattr(value, "__wrapped__"):
        return inner(value.__wrapped__)
    return type(value).__qualname__
