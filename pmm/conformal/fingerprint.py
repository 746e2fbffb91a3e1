"""A model's fingerprint: a SHA-256 of its spec, its params and its state, bit for bit.

A calibration is only valid for the model, params and state that produced its scores; saved
calibrations store this fingerprint and refuse to load for anything else.

Examples
--------
>>> import jax, pmm
>>> model = pmm.nn.Linear(features=2)
>>> params, state = model.init(jax.random.key(0), (3,))
>>> fingerprint(model, params, state) == fingerprint(model, params, state)
True
>>> fingerprint(model, jax.tree.map(lambda p: p + 1, params), state) == fingerprint(
...     model, params, state)
False
"""

import hashlib
import json
from typing import Any

import jax
import numpy as np

from pmm.io.header import encode_module
from pmm.module import Module


def fingerprint(model: Module, params: Any, state: Any) -> str:
    """The hex SHA-256 of ``model``'s JSON spec and every params/state leaf's path, dtype,
    shape and bytes."""
    digest = hashlib.sha256()
    digest.update(json.dumps(encode_module(model), sort_keys=True).encode())
    for root, tree in (("params", params), ("state", state)):
        for path, leaf in jax.tree_util.tree_leaves_with_path(tree):
            array = np.ascontiguousarray(leaf)
            where = f"{root}{jax.tree_util.keystr(path)} {array.dtype.name} {array.shape}"
            digest.update(where.encode())
            digest.update(array.tobytes())
    return digest.hexdigest()
