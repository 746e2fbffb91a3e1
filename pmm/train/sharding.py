"""Data parallelism over a ``jax.sharding.Mesh``: batches split over the data axis, all else copied.

Every device holds the whole dataset, the params and the optimizer state (replicated); inside the
compiled step each minibatch is constrained to be split along the mesh's data axis, so each device
computes the model on ``batch_size / devices`` samples and XLA adds the gradient all-reduce.

Multi-host: call ``jax.distributed.initialize()`` in every process first, load the same data in
each, build the mesh over all devices (``jax.make_mesh((jax.device_count(),), ("data",))``) and
call ``fit`` with the same arguments everywhere; arrays are placed with
``jax.make_array_from_callback``, which only touches each process's own devices.
"""

import functools
from collections.abc import Callable
from typing import Any

import jax
import numpy as np
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec


def data_axis(mesh: Mesh) -> str:
    """The mesh axis batches are split over: ``"data"``, or the only axis of a 1-D mesh."""
    names = tuple(mesh.axis_names)
    if "data" in names:
        return "data"
    if len(names) == 1:
        return str(names[0])
    raise ValueError(
        f"mesh has axes {names} and none is named 'data'; name the batch axis 'data', e.g. "
        "jax.make_mesh((4,), ('data',))"
    )


def check_batch_size(mesh: Mesh | None, batch_size: int, name: str = "batch_size") -> None:
    """``ValueError`` unless ``batch_size`` divides evenly over the mesh's data axis."""
    if mesh is None:
        return
    devices = mesh.shape[data_axis(mesh)]
    if batch_size % devices:
        raise ValueError(
            f"{name} {batch_size} must be a multiple of the {devices} devices on mesh axis "
            f"{data_axis(mesh)!r}; choose e.g. {name}={devices * max(1, batch_size // devices)}"
        )


def fitted_batch_size(batch_size: int, samples: int, mesh: Mesh | None) -> int:
    """``batch_size``, lowered to the smallest batch that holds all ``samples`` when it is larger.

    A batch far larger than the data would only add padding (10 samples with ``batch_size=10**7``
    would compute 10 million padded rows); with a mesh the result stays a multiple of its data
    devices.

    Examples
    --------
    >>> fitted_batch_size(10**7, 10, None), fitted_batch_size(16, 10, None)
    (10, 10)
    """
    devices = 1 if mesh is None else mesh.shape[data_axis(mesh)]
    return min(batch_size, devices * -(-samples // devices))


def replicate(tree: Any, mesh: Mesh | None) -> Any:
    """Every leaf of ``tree`` copied to every device of ``mesh`` (unchanged without a mesh)."""
    if mesh is None:
        return tree
    sharding = NamedSharding(mesh, PartitionSpec())

    def place(leaf: Any) -> Any:
        if jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
            return jax.random.wrap_key_data(
                place(jax.random.key_data(leaf)), impl=jax.random.key_impl(leaf)
            )
        host = np.asarray(leaf)
        return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])

    return jax.tree.map(place, tree)


@functools.cache
def batch_constraint(mesh: Mesh | None) -> Callable[[Any], Any]:
    """A function marking a minibatch PyTree as split along the mesh's data axis (or identity)."""
    if mesh is None:
        return lambda tree: tree
    axis = data_axis(mesh)
    sharding = NamedSharding(mesh, PartitionSpec(axis))
    if mesh.axis_types[mesh.axis_names.index(axis)] == AxisType.Explicit:
        return lambda tree: jax.sharding.reshard(tree, sharding)
    return lambda tree: jax.lax.with_sharding_constraint(tree, sharding)
