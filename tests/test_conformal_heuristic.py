"""The "normalized" score's uncertainty heuristic against its formulas: analytic derivatives of a
line, and finite differences of a complex-parameter AE-PMM in float64."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pmm
from pmm.conformal.heuristic import FLOOR, fit_heuristic, uncertainty

LINE = pmm.nn.Linear(features=1)
W, B = 2.0, -0.5
LINE_PARAMS = {"weight": jnp.array([[W]]), "bias": jnp.array([B])}


def mad_normalised(values):
    """``values / MAD(values)``, the MAD replaced by the mean |value| where it is zero."""
    median = np.median(values)
    mad = np.median(np.abs(values - median))
    return values / (mad if mad > 0 else np.mean(np.abs(values)))


def test_the_heuristic_of_a_line_is_the_sum_of_its_three_normalised_sensitivities():
    train = np.random.default_rng(0).uniform(-1, 1, 40)
    x = np.array([-3.0, -0.5, 0.0, 0.7, 2.0])
    iqr = np.quantile(train, 0.75) - np.quantile(train, 0.25)

    def parameter(points):  # d f / d w = x, d f / d b = 1, each times its param
        return np.sqrt(((points * W) ** 2 + B**2) / 2)

    def distance(points, leave_out):
        return np.array(
            [
                min(abs(p - t) for j, t in enumerate(train) if j != i or not leave_out) / iqr
                for i, p in enumerate(points)
            ]
        )

    # Normalisers from the training inputs; the input sensitivity |W| * IQR is constant there.
    theta_train, distance_train = parameter(train), distance(train, leave_out=True)
    theta_scale = np.median(np.abs(theta_train - np.median(theta_train)))
    distance_scale = np.median(np.abs(distance_train - np.median(distance_train)))
    expected = (
        parameter(x) / theta_scale + 1.0 + distance(x, leave_out=False) / distance_scale + FLOOR
    )
    heuristic = fit_heuristic(
        LINE, LINE_PARAMS, (), jnp.asarray(train)[:, None], training=True, batch_size=7
    )
    found = uncertainty(heuristic, LINE, LINE_PARAMS, (), jnp.asarray(x)[:, None], batch_size=2)
    np.testing.assert_allclose(found[:, 0], expected, rtol=1e-4)


def test_without_training_inputs_only_the_parameter_sensitivity_counts():
    x = np.linspace(-1, 1, 11)
    heuristic = fit_heuristic(LINE, LINE_PARAMS, (), jnp.asarray(x)[:, None], False, None)
    assert heuristic.reference is None and heuristic.normalisers.shape == (1, 1)
    found = uncertainty(heuristic, LINE, LINE_PARAMS, (), jnp.asarray(x)[:, None], None)
    expected = mad_normalised(np.sqrt(((x * W) ** 2 + B**2) / 2)) + FLOOR
    np.testing.assert_allclose(found[:, 0], expected, rtol=1e-5)


class SquaredModulus(pmm.Parameterless):
    """``|z|**2``: a real output from complex features."""

    def apply(self, params, data, training, state, rng):
        return jnp.abs(data) ** 2, state


@pytest.mark.parametrize(
    "model",
    [
        pmm.AEPMM(matrix_size=2, dtype="complex128"),
        pmm.nn.Linear(features=1, dtype="complex128") >> SquaredModulus(),
    ],
    ids=["aepmm", "complex-linear"],
)
def test_the_parameter_sensitivity_matches_finite_differences(x64, model):
    params, state = model.init(jax.random.key(0), (1,))
    params = jax.tree.map(lambda p: p * 30, params)  # away from the tiny initial magnitudes
    x = jnp.linspace(-1.0, 1.0, 7)[:, None]
    leaves, structure = jax.tree.flatten(params)

    def output(flat_leaves):
        tree = jax.tree.unflatten(structure, flat_leaves)
        return np.asarray(model(tree, x, False, state, None)[0][:, 0])

    squares, count, step = np.zeros(len(x)), 0, 1e-6
    for index, leaf in enumerate(leaves):
        directions = (step, 1j * step) if jnp.iscomplexobj(leaf) else (step,)
        for position in np.ndindex(leaf.shape):
            count += 1
            for direction in directions:  # |df/dz|^2 = (df/dRe z)^2 + (df/dIm z)^2
                moved = [np.array(other) for other in leaves]
                moved[index][position] += direction
                up = output(moved)
                moved[index][position] -= 2 * direction
                derivative = (up - output(moved)) / (2 * step)
                squares += derivative**2 * abs(complex(leaf[position])) ** 2
    sensitivity = np.sqrt(squares / count)
    heuristic = fit_heuristic(model, params, state, x, training=False, batch_size=None)
    found = uncertainty(heuristic, model, params, state, x, batch_size=None)
    np.testing.assert_allclose(found[:, 0], mad_normalised(sensitivity) + FLOOR, rtol=1e-5)


def test_integer_inputs_are_skipped_by_the_input_terms():
    model = pmm.Select("x") >> pmm.nn.Linear(features=1)
    params, _ = model.init(jax.random.key(0), {"x": (1,), "ids": jax.ShapeDtypeStruct((), "int32")})
    train = {"x": jnp.linspace(-1, 1, 9)[:, None], "ids": jnp.arange(9)}
    heuristic = fit_heuristic(model, params, (), train, training=True, batch_size=None)
    assert len(heuristic.input_scale) == 1 and heuristic.normalisers.shape == (3, 1)
    found = uncertainty(heuristic, model, params, (), train, batch_size=4)
    assert np.all(np.isfinite(found))
