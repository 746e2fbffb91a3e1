"""fit's options: restore_best without validation, val_batch_size, the on-device callback,
batch sizes above the sample count, bfloat16 and float64 models."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import pmm
from tests.modules import Scale

STILL = optax.sgd(0.0)


def data(samples=16):
    x = jax.random.normal(jax.random.key(0), (samples, 3))
    return x, 2.0 * x


def fit_scale(epochs, **options):
    params, state = Scale(factor=0.0).init(None, (3,))
    options = {"batch_size": 4, "progress": False} | options
    return pmm.fit(Scale(), params, state, *data(), epochs=epochs, **options)


SEEN = set()


class Probe(pmm.Module):
    """Records ``(batch, training)`` of every traced call in ``SEEN``."""

    def init(self, rng, input_shape):
        return (), ()

    def apply(self, params, data, training, state, rng):
        SEEN.add((data.shape[0], training))
        return data, state


def probed_fit(samples, **options):
    model = Probe() >> Scale()
    params, state = model.init(None, (3,))
    SEEN.clear()
    pmm.fit(model, params, state, *data(samples), epochs=1, progress=False, **options)
    return set(SEEN)


#: Three epochs of 4 steps at a small learning rate, then one so large that the loss grows.
OVERSHOOT = optax.sgd(optax.piecewise_constant_schedule(0.1, {12: 40.0}), momentum=0.5)


def test_restore_best_without_validation_returns_the_params_the_epoch_end_loss_belongs_to():
    result = fit_scale(6, optimizer=OVERSHOOT, restore_best=True)
    x, y = (np.asarray(a) for a in data())
    best = result.best_epoch
    assert best == int(np.argmin(result.history["epoch_end_loss"])) == 2
    loss_of_returned_params = np.mean((x * np.asarray(result.params["s"]) - y) ** 2)
    np.testing.assert_allclose(
        result.history["epoch_end_loss"][best], loss_of_returned_params, rtol=1e-5
    )


def test_restore_best_returns_the_optimizer_state_of_the_best_epoch():
    result = fit_scale(6, optimizer=OVERSHOOT, restore_best=True)
    at_best = fit_scale(result.best_epoch + 1, optimizer=OVERSHOOT, restore_best=False)
    np.testing.assert_array_equal(result.params["s"], at_best.params["s"])
    for left, right in zip(
        jax.tree.leaves(result.opt_state), jax.tree.leaves(at_best.opt_state), strict=True
    ):
        np.testing.assert_array_equal(left, right)


def test_without_validation_the_default_returns_the_last_params_and_no_extra_pass():
    result = fit_scale(3, optimizer=OVERSHOOT)
    assert set(result.history) == {"loss"}
    np.testing.assert_array_equal(
        result.params["s"], fit_scale(3, optimizer=OVERSHOOT, restore_best=False).params["s"]
    )


def test_val_batch_size_sets_the_evaluation_batches_only():
    x, y = data(12)
    assert probed_fit(16, batch_size=4, val_batch_size=6, validation=(x, y)) == {
        (4, True),
        (6, False),
    }


def test_a_batch_size_above_the_sample_count_is_lowered_to_it():
    assert probed_fit(10, batch_size=10**7) == {(10, True)}


def test_callback_runs_inside_the_compiled_epochs_and_sees_epoch_and_logs():
    seen = []

    def callback(epoch, logs):
        seen.append((isinstance(epoch, jax.core.Tracer), sorted(logs)))

    fit_scale(5, callback=callback)
    assert seen == [(True, ["loss", "params", "state"])]  # traced once, for every epoch


def test_params_returned_by_the_callback_continue_the_training():
    def callback(epoch, logs):  # put the epoch index into the params after every epoch
        return {"s": jnp.full(3, epoch, logs["params"]["s"].dtype)}

    result = fit_scale(7, optimizer=STILL, callback=callback)
    np.testing.assert_array_equal(result.params["s"], jnp.full(3, 6.0))
    x, y = data()
    second_epoch_loss = np.mean((np.asarray(x) * 0.0 - np.asarray(y)) ** 2)  # after epoch 0
    np.testing.assert_allclose(result.history["loss"][1], second_epoch_loss, rtol=1e-6)


def test_a_callback_returning_params_of_another_layout_is_refused():
    with pytest.raises(ValueError, match=r"callback\(epoch, logs\) must return None or new params"):
        fit_scale(2, callback=lambda epoch, logs: {"s": jnp.zeros(4)})


def test_a_host_callback_given_as_callback_points_to_host_callback():
    with pytest.raises(ValueError, match=r"called as callback\(epoch, logs\).*host_callback"):
        fit_scale(2, callback=lambda result: None)


@dataclasses.dataclass(frozen=True)
class HalfScale(pmm.Module):
    """``x * s`` with ``s`` in bfloat16."""

    def init(self, rng, input_shape):
        return {"s": jnp.zeros(input_shape, jnp.bfloat16)}, ()

    def apply(self, params, data, training, state, rng):
        return data * params["s"], state


def test_a_bfloat16_model_trains_and_keeps_its_dtype():
    x = jax.random.normal(jax.random.key(0), (64, 3)).astype(jnp.bfloat16)
    params, state = HalfScale().init(None, (3,))
    result = pmm.fit(
        HalfScale(), params, state, x, 2 * x, optimizer=optax.adam(0.05), epochs=60,
        batch_size=16, progress=False,
    )  # fmt: skip
    assert result.params["s"].dtype == jnp.bfloat16
    assert result.history["loss"].dtype == np.float32
    np.testing.assert_allclose(result.params["s"].astype(np.float32), [2.0, 2.0, 2.0], atol=0.05)


def test_a_bfloat16_models_loss_is_summed_in_float32():
    # 4096 per-sample losses of 1 + 2**-7 (exact in bfloat16): a bfloat16 running sum stalls
    # far below the mean; a float32 one gives it to float32 precision.
    x = jnp.ones((4096, 1), jnp.bfloat16)
    y = jnp.full((4096, 1), 1 + 2**-7, jnp.bfloat16)
    result = pmm.fit(
        HalfScale(), *HalfScale().init(None, (1,)), x, y, loss="mae", optimizer=STILL, epochs=1,
        batch_size=4096, progress=False,
    )  # fmt: skip
    np.testing.assert_allclose(result.history["loss"][0], 1 + 2**-7, rtol=1e-6)


def test_a_float64_linear_model_trains_in_float64(x64):
    model = pmm.nn.Linear(features=1, dtype="float64")
    params, state = model.init(jax.random.key(0), (2,))
    x = np.random.default_rng(0).normal(size=(8, 2))
    y = x @ np.array([[1.0], [-1.0]]) + 1 / 3
    result = pmm.fit(
        model, params, state, x, y, optimizer=optax.sgd(0.1), epochs=1, batch_size=8,
        progress=False,
    )  # fmt: skip
    w, b = np.asarray(params["weight"]), np.asarray(params["bias"])
    residual = x @ w + b - y  # one full-batch SGD step on the mean squared error, by hand
    expected_w = w - 0.1 * 2 * x.T @ residual / 8
    assert result.params["weight"].dtype == jnp.float64
    assert result.history["loss"].dtype == np.float64
    np.testing.assert_allclose(result.params["weight"], expected_w, rtol=1e-13)
