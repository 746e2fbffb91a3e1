"""The ``input_shape`` of a file: shape tuples, and ``jax.ShapeDtypeStruct`` leaves with a dtype.

A leaf ``(3, None)`` is stored as ``{"shape": [3, null]}``; a typed leaf
``jax.ShapeDtypeStruct((12,), jnp.int32)`` (integer ids, say; format version 3) as
``{"struct": {"shape": [12], "dtype": "int32"}}``. Only the shape and dtype of a struct are
stored (not its sharding). Containers are those of any tree in the header (``header.py``).

Examples
--------
>>> encode_input_shape({"ids": jax.ShapeDtypeStruct((12,), jnp.int32), "x": (3,)})
{'dict': {'ids': {'struct': {'shape': [12], 'dtype': 'int32'}}, 'x': {'shape': [3]}}}
>>> decode_input_shape({"shape": [3, None]})
(3, None)
"""

from typing import Any

import jax
import numpy as np

from pmm.io.archive import is_size_list
from pmm.io.header import decode_tree, encode_tree
from pmm.io.npy import DTYPES, needs_x64
from pmm.io.problem import FileProblem
from pmm.shapes import is_shape, validate_shape
from pmm.typing import DataShape


def encode_input_shape(input_shape: Any) -> Any:
    """The JSON form of ``input_shape``.

    Raises ``ValueError`` if it is not a ``DataShape`` and ``TypeError`` for a struct whose dtype
    a pmm file cannot hold or this JAX configuration could not load back (64-bit types while
    ``jax_enable_x64`` is off).
    """
    validate_shape(input_shape)
    return encode_tree(input_shape, _encode_leaf, is_shape, "input_shape")


def _encode_leaf(leaf: Any, where: str) -> dict[str, Any]:
    if not isinstance(leaf, jax.ShapeDtypeStruct):
        return {"shape": list(leaf)}
    name = np.dtype(leaf.dtype).name
    if name not in DTYPES:
        raise TypeError(f"{where} has dtype {name}; pmm files hold {', '.join(DTYPES)}")
    if needs_x64(name):
        raise TypeError(
            f"{where} has dtype {name}, which JAX narrows while 64-bit mode is off, so the file "
            "could not be loaded back: give a 32-bit dtype or enable jax_enable_x64"
        )
    return {"struct": {"shape": list(leaf.shape), "dtype": name}}


def decode_input_shape(node: Any) -> DataShape:
    """Undo ``encode_input_shape``; ``FileProblem`` for anything else."""
    return decode_tree(node, _decode_leaf, "input_shape")


def _decode_leaf(tag: str, value: Any, where: str) -> Any:
    if tag == "shape" and is_size_list(value, allow_none=True):
        return tuple(value)
    if (
        tag == "struct"
        and isinstance(value, dict)
        and set(value) == {"shape", "dtype"}
        and is_size_list(value["shape"], allow_none=True)
        and isinstance(value["dtype"], str)
        and value["dtype"] in DTYPES
    ):
        if needs_x64(value["dtype"]):
            raise FileProblem(
                f"{where} is {value['dtype']} data, which needs 64-bit JAX: call "
                "jax.config.update('jax_enable_x64', True) before loading"
            )
        return jax.ShapeDtypeStruct(tuple(value["shape"]), DTYPES[value["dtype"]])
    raise FileProblem(f"header entry at {where} is not a shape")
