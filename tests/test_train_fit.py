"""pmm.fit: losses go down, history, validation, batching, weights, PyTrees, stopping rules."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import pmm
from tests.modules import Counter, Dense, Noise, Scale


def regression(samples=50, features=3, seed=0):
    """``y = x * [1, -2, 3]``: Scale's least-squares optimum is ``s = [1, -2, 3]``."""
    x = jax.random.normal(jax.random.key(seed), (samples, features))
    return x, x * jnp.arange(1.0, features + 1) * jnp.array([1.0, -1.0, 1.0])[:features]


ADAM = optax.adam(5e-2)
STILL = optax.sgd(0.0)


def fit_scale(x, y, **options):
    params, state = Scale(factor=0.0).init(None, x.shape[1:])
    options = {"epochs": 200, "batch_size": 16, "progress": False, "optimizer": ADAM} | options
    return pmm.fit(Scale(factor=0.0), params, state, x, y, **options)


@dataclasses.dataclass(frozen=True)
class Poison(pmm.Module):
    """``x * s`` whose output turns NaN once ``s`` exceeds ``limit``."""

    limit: float = 0.5

    def init(self, rng, input_shape):
        return {"s": jnp.zeros(input_shape)}, ()

    def apply(self, params, data, training, state, rng):
        s = params["s"]
        return jnp.where(s > self.limit, jnp.nan, data * s), state


class Pair(pmm.Module):
    """PyTree in and out: ``{"a": x_a * s, "b": x_b + t}`` -> ``(out_a, out_b)``."""

    def init(self, rng, input_shape):
        return {"s": jnp.zeros(input_shape["a"]), "t": jnp.zeros(input_shape["b"])}, ()

    def apply(self, params, data, training, state, rng):
        return (data["a"] * params["s"], data["b"] + params["t"]), state


def test_fit_reaches_the_least_squares_optimum():
    x, y = regression()
    result = fit_scale(x, y, epochs=300)
    np.testing.assert_allclose(result.params["s"], [1.0, -2.0, 3.0], atol=1e-3)


def test_history_holds_one_numpy_loss_per_epoch():
    x, y = regression()
    result = fit_scale(x, y, epochs=7)
    assert isinstance(result.history["loss"], np.ndarray)
    assert result.history["loss"].shape == (7,)
    assert "val_loss" not in result.history
    assert (result.epochs_run, result.stopped) == (7, "epochs")


def test_training_loss_decreases():
    x, y = regression()
    loss = fit_scale(x, y, epochs=50).history["loss"]
    assert loss[-1] < 0.1 * loss[0]


def test_validation_loss_is_the_loss_on_validation_data_after_each_epoch():
    x, y = regression()
    xv, yv = regression(seed=1, samples=21)
    result = fit_scale(x, y, epochs=3, validation=(xv, yv), restore_best=False)
    expected = jnp.mean((xv * result.params["s"] - yv) ** 2)
    assert result.history["val_loss"].shape == (3,)
    np.testing.assert_allclose(result.history["val_loss"][-1], expected, rtol=1e-5)


def test_validation_runs_one_batch_at_a_time_in_evaluation_mode():
    seen = set()

    class Probe(pmm.Module):  # records (batch, training) of every traced call
        def init(self, rng, input_shape):
            return (), ()

        def apply(self, params, data, training, state, rng):
            seen.add((data.shape[0], training))
            return data, state

    x, y = regression()
    model = Probe() >> Scale()
    params, state = model.init(None, (3,))
    seen.clear()  # init probes shapes with a batch of its own
    pmm.fit(model, params, state, x, y, epochs=1, batch_size=16, validation=(x, y), progress=False)
    assert seen == {(16, True), (16, False)}


def test_the_partial_last_batch_counts_every_sample_once():
    x, y = regression(samples=10)
    params = {"s": jnp.array([0.5, 0.5, 0.5])}
    result = pmm.fit(
        Scale(), params, (), x, y, optimizer=STILL, epochs=1, batch_size=4, progress=False
    )
    exact = jnp.mean((x * 0.5 - y) ** 2)
    np.testing.assert_allclose(result.history["loss"][0], exact, rtol=1e-5)


def test_batch_larger_than_the_data_is_one_masked_batch():
    x, y = regression(samples=5)
    result = fit_scale(x, y, epochs=2, batch_size=32, optimizer=STILL)
    np.testing.assert_allclose(result.history["loss"][0], jnp.mean(y**2), rtol=1e-5)


def test_sample_weights_weight_the_per_sample_losses():
    x, y = regression(samples=8)
    weight = jnp.arange(8.0)
    result = fit_scale(x, y, epochs=1, optimizer=STILL, sample_weight=weight)
    per_sample = jnp.mean(y**2, axis=1)
    np.testing.assert_allclose(
        result.history["loss"][0], jnp.sum(weight * per_sample) / jnp.sum(weight), rtol=1e-5
    )


def test_zero_weight_samples_do_not_move_the_fit():
    x, y = regression(samples=40)
    corrupted = y.at[20:].set(100.0)
    weight = jnp.where(jnp.arange(40) < 20, 1.0, 0.0)
    result = fit_scale(x, corrupted, epochs=300, sample_weight=weight)
    np.testing.assert_allclose(result.params["s"], [1.0, -2.0, 3.0], atol=1e-3)


def test_pytree_inputs_and_targets_train():
    xa, ya = regression()
    xb = jnp.ones((50, 2))
    model = Pair()
    params, state = model.init(None, {"a": (3,), "b": (2,)})
    result = pmm.fit(
        model,
        params,
        state,
        {"a": xa, "b": xb},
        (ya, xb + 4.0),
        epochs=300,
        optimizer=optax.adam(5e-2),
        progress=False,
    )
    np.testing.assert_allclose(result.params["s"], [1.0, -2.0, 3.0], atol=1e-3)
    np.testing.assert_allclose(result.params["t"], [4.0, 4.0], atol=1e-3)


def test_no_targets_means_the_inputs_are_the_targets():
    x, _ = regression()
    result = fit_scale(x, None, epochs=300)
    np.testing.assert_allclose(result.params["s"], [1.0, 1.0, 1.0], atol=1e-3)


def test_same_rng_gives_bit_identical_results():
    x, y = regression()
    first, second = (fit_scale(x, y, epochs=5, rng=jax.random.key(3)) for _ in range(2))
    np.testing.assert_array_equal(first.params["s"], second.params["s"])
    np.testing.assert_array_equal(first.history["loss"], second.history["loss"])


def test_different_rng_shuffles_differently():
    x, y = regression()
    first, second = (fit_scale(x, y, epochs=2, rng=seed) for seed in (1, 2))
    assert not np.array_equal(first.history["loss"], second.history["loss"])


def test_stochastic_modules_get_a_fresh_key_every_step():
    model = Noise() >> Scale(factor=0.0)
    x, y = regression()
    params, state = model.init(jax.random.key(0), (3,))
    result = pmm.fit(model, params, state, x, y, epochs=2, progress=False, restore_best=False)
    assert np.all(np.isfinite(result.history["loss"]))


def test_model_state_is_threaded_through_every_step():
    model = Counter() >> Scale()
    x, y = regression(samples=10)
    params, state = model.init(None, (3,))
    result = pmm.fit(
        model, params, state, x, y, epochs=3, batch_size=4, progress=False, restore_best=False
    )
    assert int(result.state[0]["calls"]) == 3 * 3


def test_patience_stops_when_the_monitored_loss_stops_improving():
    x, y = regression()
    result = fit_scale(x, y, epochs=500, patience=3, min_delta=1e-6, optimizer=STILL)
    assert (result.stopped, result.epochs_run, result.best_epoch) == ("patience", 4, 0)


def test_min_delta_demands_a_real_improvement():
    x, y = regression()
    result = fit_scale(x, y, epochs=500, patience=2, min_delta=1e9)
    assert (result.stopped, result.epochs_run) == ("patience", 3)


def test_target_loss_stops_once_reached():
    x, y = regression()
    result = fit_scale(x, y, epochs=1000, target_loss=1e-2)
    assert result.stopped == "target loss"
    assert result.history["loss"][-1] <= 1e-2 < result.history["loss"][-2]


def test_restore_best_returns_the_params_of_the_best_validation_epoch():
    x, y = regression()
    xv = x
    yv = x * 0.0  # the fit moves away from this, so the first epoch validates best
    result = fit_scale(x, y, epochs=10, validation=(xv, yv))
    last = fit_scale(x, y, epochs=1, validation=(xv, yv))
    assert result.best_epoch == 0
    np.testing.assert_array_equal(result.params["s"], last.params["s"])


def test_non_finite_loss_stops_and_returns_the_last_finite_params():
    x = jnp.ones((8, 1))
    model = Poison(limit=0.5)
    params, state = model.init(None, (1,))
    options = {
        "optimizer": optax.sgd(0.1),
        "batch_size": 8,
        "progress": False,
        "restore_best": False,
    }
    result = pmm.fit(model, params, state, x, x, epochs=100, **options)
    assert result.stopped == "non-finite loss"
    assert not np.isfinite(result.history["loss"][-1])
    assert np.all(np.isfinite(result.history["loss"][:-1]))
    reference = pmm.fit(model, params, state, x, x, epochs=result.epochs_run - 1, **options)
    np.testing.assert_array_equal(result.params["s"], reference.params["s"])


def test_a_non_finite_validation_loss_stops_training_too():
    x, y = regression()
    result = fit_scale(x, y, epochs=10, validation=(x.at[0, 0].set(jnp.nan), y))
    assert (result.stopped, result.epochs_run, result.best_epoch) == ("non-finite loss", 1, None)
    np.testing.assert_array_equal(result.params["s"], jnp.zeros(3))


def test_float64_training_keeps_float64(x64):
    x, y = regression()
    x, y = x.astype(jnp.float64), y.astype(jnp.float64)
    params = {"s": jnp.zeros(3, jnp.float64)}
    result = pmm.fit(Scale(), params, (), x, y, epochs=2, optimizer=ADAM, progress=False)
    assert result.params["s"].dtype == jnp.float64
    assert result.history["loss"].dtype == np.float64


def test_host_callback_sees_each_epoch_and_can_stop_training():
    x, y = regression()
    seen = []

    def callback(result):
        seen.append((result.epochs_run, len(result.history["loss"]), result.stopped))
        return result.epochs_run == 3

    result = fit_scale(x, y, epochs=10, host_callback=callback)
    assert seen == [(1, 1, None), (2, 2, None), (3, 3, None)]
    assert (result.stopped, result.epochs_run) == ("callback", 3)


def test_optax_schedules_are_used_as_given():
    x, y = regression()
    frozen_after_start = optax.sgd(optax.piecewise_constant_schedule(0.1, {1: 0.0}))
    result = fit_scale(
        x, y, epochs=3, batch_size=50, optimizer=frozen_after_start, restore_best=False
    )
    loss = result.history["loss"]
    assert loss[1] < loss[0]
    np.testing.assert_allclose(loss[2], loss[1], rtol=1e-6)


def test_fit_trains_an_mlp():
    model = pmm.nn.MLP(hidden=(8,), features=1, activation="tanh")
    x = jax.random.uniform(jax.random.key(0), (64, 1), minval=-1.0, maxval=1.0)
    params, state = model.init(jax.random.key(1), (1,))
    result = pmm.fit(
        model, params, state, x, x**2, epochs=200, optimizer=optax.adam(2e-2), progress=False
    )
    assert result.history["loss"][-1] < 0.1 * result.history["loss"][0]


def test_progress_false_prints_nothing(capsys):
    x, y = regression()
    fit_scale(x, y, epochs=2)
    assert capsys.readouterr() == ("", "")


def test_mismatched_sample_counts_are_reported_with_shapes():
    x, y = regression()
    with pytest.raises(ValueError, match=r"same number of samples.*\(50, 3\).*\(49, 3\)"):
        fit_scale(x, y[:49])


def test_bad_sample_weight_shape_is_reported():
    x, y = regression()
    with pytest.raises(ValueError, match=r"shape \(50,\).*got shape \(50, 1\)"):
        fit_scale(x, y, sample_weight=jnp.ones((50, 1)))


def test_malformed_validation_is_reported():
    x, y = regression()
    with pytest.raises(ValueError, match="validation must be a tuple"):
        fit_scale(x, y, validation=x)


@pytest.mark.parametrize("option", [{"epochs": -1}, {"batch_size": 0}, {"patience": 0}])
def test_bad_counts_are_refused(option):
    x, y = regression()
    with pytest.raises(ValueError, match=f"{next(iter(option))} must be an int"):
        fit_scale(x, y, **option)


def test_dense_module_with_default_optimizer_trains():
    model = Dense(features=2)
    x, _ = regression()
    params, state = model.init(jax.random.key(0), (3,))
    result = pmm.fit(model, params, state, x, jnp.zeros((50, 2)), epochs=3, progress=False)
    assert result.history["loss"][-1] < result.history["loss"][0]


@pytest.mark.parametrize("batch_size", [1, 3, 4, 8, 16])
def test_weighted_epoch_loss_is_the_weighted_mean_over_every_sample(batch_size):
    x, y = regression(samples=8)
    weight = jnp.arange(1.0, 9.0)
    result = fit_scale(x, y, epochs=1, batch_size=batch_size, optimizer=STILL, sample_weight=weight)
    per_sample = jnp.mean(y**2, axis=1)
    np.testing.assert_allclose(
        result.history["loss"][0], jnp.sum(weight * per_sample) / jnp.sum(weight), rtol=1e-5
    )


@pytest.mark.parametrize("batch_size", [1, 2, 4])
def test_sample_weights_weight_each_sample_in_every_step_not_each_batch(batch_size):
    # With a loss linear in the params each sample's gradient is constant (x_i * y_i), so an
    # epoch of SGD moves the params by the sum of its steps: steps * the weighted mean gradient.
    x, y = regression(samples=8)
    weight = jnp.array([1.0, 1e-3, 5.0, 1e-3, 2.0, 1e-3, 1.0, 1e-3])
    result = fit_scale(
        x,
        y,
        epochs=1,
        batch_size=batch_size,
        optimizer=optax.sgd(0.1),
        sample_weight=weight,
        loss=lambda pred, target: jnp.sum(pred * target, axis=1),
        restore_best=False,
    )
    mean_gradient = jnp.sum(weight[:, None] * x * y, axis=0) / jnp.sum(weight)
    np.testing.assert_allclose(
        result.params["s"], -0.1 * (8 // batch_size) * mean_gradient, rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize(
    "weight", [jnp.full(50, -1.0), jnp.zeros(50), jnp.ones(50).at[3].set(jnp.inf)]
)
def test_negative_non_finite_or_all_zero_sample_weights_are_refused(weight):
    x, y = regression()
    with pytest.raises(ValueError, match="sample weights must be finite and non-negative"):
        fit_scale(x, y, sample_weight=weight)


def test_batchnorm_state_trains_and_is_returned_with_its_params():
    model = pmm.nn.BatchNorm(momentum=0.5) >> pmm.nn.Linear(features=1)
    params, state = model.init(jax.random.key(0), (2,))
    x = 3.0 + 2.0 * jax.random.normal(jax.random.key(1), (40, 2))
    y = x[:, :1] - x[:, 1:]
    result = pmm.fit(
        model,
        params,
        state,
        x,
        y,
        epochs=20,
        batch_size=8,
        optimizer=optax.adam(5e-2),
        validation=(x, y),
        progress=False,
    )
    np.testing.assert_allclose(result.state[0]["mean"], jnp.mean(x, axis=0), rtol=0.2)
    prediction = pmm.predict(model, result.params, result.state, x)
    best = result.history["val_loss"][result.best_epoch]
    np.testing.assert_allclose(jnp.mean((prediction - y) ** 2), best, rtol=1e-5)
    assert best < 0.1 * result.history["val_loss"][0]


def test_a_numpy_integer_seed_is_the_same_as_the_python_int():
    x, y = regression()
    by_numpy, by_int = (fit_scale(x, y, epochs=2, rng=seed) for seed in (np.int64(3), 3))
    np.testing.assert_array_equal(by_numpy.history["loss"], by_int.history["loss"])


def test_a_legacy_uint32_key_is_the_same_as_its_typed_key():
    x, y = regression()
    legacy, typed = (
        fit_scale(x, y, epochs=2, rng=k) for k in (jax.random.PRNGKey(3), jax.random.key(3))
    )
    np.testing.assert_array_equal(legacy.history["loss"], typed.history["loss"])


@pytest.mark.parametrize("rng", ["abc", 2.5, jnp.zeros(3)])
def test_an_rng_that_is_neither_key_nor_seed_is_refused(rng):
    x, y = regression()
    with pytest.raises(ValueError, match="rng must be a PRNG key"):
        fit_scale(x, y, epochs=1, rng=rng)
