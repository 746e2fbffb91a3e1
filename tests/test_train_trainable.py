"""Freezing: frozen leaves come back bit-identical and get no optimizer state."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import pmm
from tests.modules import Scale

ADAM = optax.adam(5e-2)
MODEL = Scale(factor=0.5) >> Scale(factor=1.5)


def data():
    x = jax.random.normal(jax.random.key(0), (24, 3))
    return x, 2.0 * x


def train(trainable):
    params, state = MODEL.init(None, (3,))
    x, y = data()
    return params, pmm.fit(
        MODEL,
        params,
        state,
        x,
        y,
        optimizer=ADAM,
        epochs=5,
        batch_size=8,
        trainable=trainable,
        progress=False,
    )


def test_frozen_leaves_stay_bit_identical():
    params, result = train((False, True))
    np.testing.assert_array_equal(result.params[0]["s"], params[0]["s"])
    assert result.params[0]["s"].dtype == params[0]["s"].dtype
    assert not np.array_equal(result.params[1]["s"], params[1]["s"])


def test_frozen_leaves_get_no_optimizer_state():
    _, result = train((False, True))
    adam_state = result.opt_state[0]
    assert adam_state.mu[0]["s"] is None and adam_state.nu[0]["s"] is None
    assert adam_state.mu[1]["s"].shape == (3,)


def test_a_predicate_on_leaf_keys_selects_the_same_leaves():
    _, by_tree = train((False, True))
    _, by_path = train(lambda path: path.keys[0] == 1)
    np.testing.assert_array_equal(by_tree.params[1]["s"], by_path.params[1]["s"])


def test_a_predicate_on_module_paths_freezes_every_layer_of_a_kind():
    model = pmm.Parallel(a=pmm.nn.Linear(features=2), b=pmm.nn.MLP(hidden=(3,), features=2))
    params, state = model.init(jax.random.key(0), (3,))
    x = jax.random.normal(jax.random.key(1), (16, 3))
    seen = []

    def only_the_mlp(path):
        seen.append(str(path))
        return isinstance(path.modules[1], pmm.nn.MLP)

    result = pmm.fit(
        model, params, state, x, {"a": x[:, :2], "b": x[:, 1:]},
        epochs=3, batch_size=8, trainable=only_the_mlp, progress=False,
    )  # fmt: skip
    np.testing.assert_array_equal(result.params["a"]["weight"], params["a"]["weight"])
    assert not np.array_equal(result.params["b"][0]["weight"], params["b"][0]["weight"])
    mlp = "Parallel['b'] > MLP(hidden=(3,), features=2)"
    assert f"{mlp} > Sequential[0] > Linear(features=3)['weight']" in seen


def test_a_full_bool_tree_works_like_its_prefix():
    _, by_prefix = train((False, True))
    _, by_leaf = train(({"s": False}, {"s": True}))
    np.testing.assert_array_equal(by_prefix.params[1]["s"], by_leaf.params[1]["s"])


def test_a_mask_of_the_wrong_structure_is_reported():
    with pytest.raises(ValueError, match="trainable must be a bool PyTree shaped like params"):
        train((False, True, True))


def test_freezing_everything_leaves_params_unchanged():
    params, result = train(False)
    np.testing.assert_array_equal(result.params[1]["s"], params[1]["s"])
    assert jnp.isfinite(result.history["loss"]).all()
