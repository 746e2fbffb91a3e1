"""Losses: the named per-sample losses, PyTree targets and user callables."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import pmm
from pmm.train.losses import resolve_loss
from tests.modules import Scale

PRED = np.array([[0.5, -1.0], [2.0, 0.0], [0.0, 3.0]], np.float32)
Y = np.array([[1.0, -1.0], [0.0, 0.5], [1.0, 1.0]], np.float32)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def huber(d):
    return np.where(np.abs(d) <= 1, d**2 / 2, np.abs(d) - 0.5)


@pytest.mark.parametrize(
    ("name", "element"),
    [
        ("mse", lambda p, y: (p - y) ** 2),
        ("mae", lambda p, y: np.abs(p - y)),
        ("huber", lambda p, y: huber(p - y)),
        ("pseudo_huber", lambda p, y: np.sqrt(1 + (p - y) ** 2) - 1),
        (
            "binary_cross_entropy",
            lambda p, y: -(y * np.log(sigmoid(p)) + (1 - y) * np.log(1 - sigmoid(p))),
        ),
    ],
)
def test_named_losses_give_the_textbook_value_per_sample(name, element):
    expected = [
        np.mean([element(p, y) for p, y in zip(row, target, strict=True)])
        for row, target in zip(PRED, Y, strict=True)
    ]
    np.testing.assert_allclose(resolve_loss(name)(PRED, Y), expected, rtol=1e-6)


def test_cross_entropy_is_the_negative_log_softmax_of_the_label():
    labels = np.array([0, 1, 1])
    expected = [
        -np.log(np.exp(row[label]) / np.sum(np.exp(row)))
        for row, label in zip(PRED, labels, strict=True)
    ]
    np.testing.assert_allclose(resolve_loss("cross_entropy")(PRED, labels), expected, rtol=1e-6)


def test_mean_relative_error_divides_by_the_targets_size():
    pred, y = np.array([[1.5, -3.0], [2.0, 2.0]]), np.array([[1.0, -2.0], [-4.0, 1.0]])
    expected = [(0.5 / 1 + 1.0 / 2) / 2, (6.0 / 4 + 1.0 / 1) / 2]
    np.testing.assert_allclose(resolve_loss("mre")(pred, y), expected, rtol=1e-6)


def test_mean_relative_error_at_a_zero_target_is_zero_if_hit_and_infinite_if_missed():
    values = resolve_loss("mre")(np.array([[0.0], [0.1]]), np.array([[0.0], [0.0]]))
    np.testing.assert_array_equal(values, [0.0, np.inf])


def test_mean_relative_error_has_finite_gradients_beside_a_zero_target():
    def loss(pred):
        return resolve_loss("mre")(pred, jnp.array([[0.0, 2.0]]))[0]

    grads = jax.grad(loss)(jnp.array([[0.0, 3.0]]))
    np.testing.assert_allclose(grads, [[0.0, 0.5 / 2]])  # d/dp |p - 2| / 2 / 2 elements


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
    np.testing.assert_allclose(
        tree, np.mean((PRED - Y) ** 2, axis=1) + np.mean(PRED**2, axis=1), rtol=1e-6
    )


def test_unknown_loss_names_are_listed():
    with pytest.raises(ValueError, match=r"loss must be one of \[.*'mse'.*got 'l2'"):
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
    with pytest.raises(ValueError, match=r"one real value per sample, shape \(4,\).*\(4, 1\)"):
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


def test_given_targets_of_the_wrong_shape_get_no_hint_about_y_none():
    with pytest.raises(
        ValueError, match=r"predictions \(1,\); give targets y shaped like the model's output"
    ) as error:
        fit_linear(jnp.ones((8, 2)))
    assert "y=None" not in str(error.value)


def test_targets_of_another_tree_structure_are_reported():
    with pytest.raises(ValueError, match=r"loss 'mse'.*tree structure.*\{'a': \*\}"):
        fit_linear({"a": jnp.ones((8, 1))})


def test_integer_labels_must_match_the_logits_without_their_class_axis():
    with pytest.raises(ValueError, match=r"integer labels.*per-sample shape \(1,\)"):
        fit_linear(jnp.zeros((8, 1), jnp.int32), "cross_entropy")
