"""Trees of arrays in a file: their structure in the JSON header, their leaves as members.

``store_tree`` adds a tree's leaves to the ``Arrays`` a file will hold and gives the tree's JSON
form (``encode_tree``, leaves as ``{"array": member}``); ``load_tree`` rebuilds it from the arrays
read back. Model files store ``params`` and ``state`` this way, conformal calibrations their
scores.

Examples
--------
>>> import jax.numpy as jnp
>>> from pmm.io.archive import Arrays
>>> arrays = Arrays()
>>> store_tree(arrays, {"w": jnp.ones(2)}, "params")
{'dict': {'w': {'array': 'params/0'}}}
>>> load_tree({"dict": {"w": {"array": "params/0"}}}, dict(arrays.stored), "params")
{'w': Array([1., 1.], dtype=float32)}
"""

from typing import Any

import jax
import numpy as np

from pmm.io.archive import Arrays
from pmm.io.header import decode_tree, encode_tree
from pmm.io.npy import needs_x64
from pmm.io.problem import FileProblem


def store_tree(arrays: Arrays, tree: Any, root: str) -> Any:
    """Add the leaves of ``tree`` to ``arrays`` (members ``<root>/<i>``); give its JSON form.

    Raises ``TypeError`` for a leaf a file cannot hold, and for a 64-bit leaf while
    ``jax_enable_x64`` is off (loading could not give it back).
    """

    def store(leaf: Any, where: str) -> dict[str, str]:
        name = f"{where.partition('[')[0]}/{len(arrays.stored)}"
        arrays.add(name, leaf, where)
        dtype = arrays.records[name]["dtype"]
        if needs_x64(dtype):
            raise TypeError(
                f"{where} is {dtype}, which JAX narrows while 64-bit mode is off, so pmm.load "
                "could not load it back: convert it (jnp.asarray(leaf) gives the 32-bit array "
                "JAX computes with) or enable jax_enable_x64"
            )
        return {"array": name}

    return encode_tree(tree, store, lambda _: False, root)


def load_tree(tree: Any, loaded: dict[str, np.ndarray], root: str) -> Any:
    """The tree whose JSON form is ``tree``, its leaves taken (popped) from ``loaded``.

    Raises ``FileProblem`` when a leaf names no array of ``loaded``.
    """

    def leaf(tag: str, value: Any, where: str) -> jax.Array:
        if tag != "array" or not isinstance(value, str) or value not in loaded:
            raise FileProblem(f"header entry at {where} names no recorded array")
        return jax.device_put(loaded.pop(value))  # adopts the aligned buffer: no copy on CPU

    return decode_tree(tree, leaf, root)
