"""``pmm.predict``: the model in evaluation mode over a dataset, jitted and in batches."""

import functools
from typing import Any

import jax

from pmm.module import Module
from pmm.train import arguments
from pmm.train.batches import as_data, batch_grid, sample_count, take
from pmm.typing import Data, Params, State


def predict(
    model: Module, params: Params, state: State, x: Data, batch_size: int | None = None
) -> Data:
    """``model(params, x, False, state, None)[0]``, jitted, ``batch_size`` samples at a time.

    Parameters
    ----------
    model, params, state
        The model and its params and state.
    x
        Inputs: an array or PyTree of arrays with a leading sample axis ``(samples, ...)``.
    batch_size
        Samples per model call (the last batch is padded, the padding dropped); ``None``, or a
        size at least the sample count, runs all samples in one call. Only one batch of
        activations is held at a time.

    Returns
    -------
    Data
        The model's output for every sample, ``(samples, ...)`` per leaf.

    Raises
    ------
    ValueError
        For an argument that is not what it must be, naming it and the accepted values.

    Examples
    --------
    >>> import jax, jax.numpy as jnp, pmm
    >>> model = pmm.nn.Linear(features=2)
    >>> params, state = model.init(jax.random.key(0), (3,))
    >>> pmm.predict(model, params, state, jnp.ones((10, 3)), batch_size=4).shape
    (10, 2)
    """
    model = arguments.module(model)
    arguments.arrays(params, "params", "give the params model.init returned")
    arguments.arrays(state, "state", "give the state model.init returned")
    batch_size = arguments.count(batch_size, "batch_size", minimum=1, optional=True)
    return _predict(model, batch_size, params, state, as_data(x, "x"))


@functools.partial(jax.jit, static_argnums=(0, 1))
def _predict(model: Module, batch_size: int | None, params: Params, state: State, x: Any) -> Any:
    samples = sample_count({"x": x})
    if batch_size is None or batch_size >= samples:
        return model(params, x, False, state, None)[0]
    indices, _ = batch_grid(jax.numpy.arange(samples), batch_size)

    def batch(_, index):
        return None, model(params, take(x, index), False, state, None)[0]

    _, outputs = jax.lax.scan(batch, None, indices)
    return jax.tree.map(lambda leaf: leaf.reshape(-1, *leaf.shape[2:])[:samples], outputs)
