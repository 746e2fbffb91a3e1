"""Params drawn in numpy with the shapes and dtypes a module's ``init`` gives, for numeric tests.

``jax.eval_shape`` finds the structure without running ``init``, so nothing is compiled (eager
``init`` compiles each of its operations once per shape), and every entry is non-zero, so biases
and scales that ``init`` sets to zero or one take part in the comparison.
"""

import jax
import jax.numpy as jnp
import numpy as np


def random_params(module, input_shape, seed=0, scale=1.0):
    """Normal draws of standard deviation ``scale`` shaped like ``module.init``'s params."""
    structs, _ = jax.eval_shape(lambda: module.init(jax.random.key(0), input_shape))
    rng = np.random.default_rng(seed)
    return jax.tree.map(
        lambda leaf: jnp.asarray(scale * rng.normal(size=leaf.shape), leaf.dtype), structs
    )
