"""Losses: the named per-sample losses, PyTree targets and user callables."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import pmm
from pmm.train.losses import resolve_loss
from tests.modules import Scale

PRED = jnp.array([[0.5, -1.0], [2.0, 0.0], [0.0, 3.0]])
Y = jnp.array([[1.0, -1.0], [0.0, 0.5], [1.0, 1.0]])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("mse", jnp.mean((PRED - Y) ** 2, axis=1)),
        ("mae", jnp.mean(jnp.abs(PRED - Y), axis=1)),
        ("huber", jnp.mean(optax.huber_loss(PRED, Y), axis=1)),
        ("binary_cross_entropy", jnp.mean(optax.sigmoid_binary_cross_entropy(PRED, Y), axis=1)),
    ],
)
def test_named_losses_give_one_value_per_sample(name, expected):
    np.testing.assert_allclose(resolve_loss(name)(PRED, Y), expected, rtol=1e-6)


def test_cross_entropy_takes_integer_labels_or_probabilities():
    labels = jnp.array([0, 1, 1])
    by_label = resolve_loss("cross_entropy")(PRED, labels)
    by_probability = resolve_loss("cross_entropy")(PRED, jnp.eye(2)[labels])
    np.testing.assert_allclose(by_label, by_probability, rtol=1e-6)
    assert by_label.shape == (3,)


def test_complex_mse_uses_the_squared_modulus():
    values = resolve_loss("mse")(jnp.array([[1j]]), jnp.array([[0j]]))
    np.testing.assert_allclose(values, [1.0])


def test_named_losses_sum_over_pytree_leaves():
    tree = resolve_loss("mse")({"a": PRED, "b": PRED}, {"a": Y, "b": 0 * Y})
    np.testing.assert_allclose(tree, resolve_loss("mse")(PRED, Y) + jnp.mean(PRED**2, axis=1))


def test_unknown_loss_names_are_listed():
    with pytest.raises(ValueError, match=r"unknown loss 'l2'.*'mse'"):
        resolve_loss("l2")


def test_a_callable_loss_is_used_as_given():
    x = jnp.ones((4, 1))
    params, state = Scale(factor=3.0).init(None, (1,))
    result = pmm.fit(
        Scale(),
        params,
        state,
        x,
        x,
        loss=lambda pred, y: (pred - y)[:, 0] ** 4,
        optimizer=optax.sgd(0.0),
        epochs=1,
        progress=False,
    )
    np.testing.assert_allclose(result.history["loss"], [16.0])


def test_a_callable_loss_of_the_wrong_shape_is_reported():
    x = jnp.ones((4, 1))
    params, state = Scale().init(None, (1,))
    with pytest.raises(ValueError, match=r"one real value per sample, shape \(32,\).*\(32, 1\)"):
        pmm.fit(
            Scale(), params, state, x, x, loss=lambda pred, y: pred - y, epochs=1, progress=False
        )


def fit_linear(y, loss="mse"):
    model = pmm.nn.Linear(features=1)
    params, state = model.init(jax.random.key(0), (3,))
    x = jnp.ones((8, 3))
    return pmm.fit(model, params, state, x, y, loss=loss, epochs=1, progress=False)


@pytest.mark.parametrize("loss", ["mse", "mae", "huber", "binary_cross_entropy"])
def test_targets_of_another_shape_than_the_predictions_are_refused(loss):
    # (8,) targets against (8, 1) predictions would broadcast to an (8, 8) loss.
    with pytest.raises(ValueError, match=r"y has per-sample shape \(\) .* predictions \(1,\)"):
        fit_linear(jnp.ones(8), loss)


def test_missing_targets_are_reported_when_the_inputs_do_not_fit_the_predictions():
    with pytest.raises(ValueError, match=r"\(3,\).*\(1,\).*y=None.*pass the targets as y"):
        fit_linear(None)


def test_targets_of_another_tree_structure_are_reported():
    with pytest.raises(ValueError, match=r"loss 'mse'.*tree structure.*\{'a': \*\}"):
        fit_linear({"a": jnp.ones((8, 1))})


def test_integer_labels_must_match_the_logits_without_their_class_axis():
    with pytest.raises(ValueError, match=r"integer labels.*per-sample shape \(1,\)"):
        fit_linear(jnp.zeros((8, 1), jnp.int32), "cross_entropy")
