"""Minibatch grids: every sample lands in exactly one unmasked slot per epoch."""

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmm.train.batches import batch_grid, dataset, sample_count


@settings(max_examples=30, deadline=None)
@given(samples=st.integers(1, 40), batch_size=st.integers(1, 50))
def test_every_sample_is_in_exactly_one_unmasked_slot(samples, batch_size):
    order = jnp.asarray(np.random.default_rng(samples).permutation(samples))
    indices, mask = batch_grid(order, batch_size)
    assert indices.shape == mask.shape == (-(-samples // batch_size), batch_size)
    assert sorted(np.asarray(indices)[np.asarray(mask)]) == list(range(samples))
    assert np.asarray(indices).max() < samples


def test_pytree_leaves_must_share_the_sample_count():
    with pytest.raises(ValueError, match=r"x\['a'\]: \(4, 2\), x\['b'\]: \(5,\)"):
        sample_count({"x": {"a": jnp.ones((4, 2)), "b": jnp.ones(5)}})


def test_scalar_data_is_refused_with_its_path():
    with pytest.raises(ValueError, match=r"x\['a'\] is a scalar"):
        dataset({"a": 1.0}, None, None, "")


def test_complex_weights_are_refused():
    with pytest.raises(ValueError, match="must be real"):
        dataset(jnp.ones((3, 1)), None, jnp.ones(3, jnp.complex64), "")
