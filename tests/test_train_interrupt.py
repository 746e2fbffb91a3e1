"""Ctrl-C: training ends with the result of the last completed epoch, nothing lost."""

import signal

import jax
import numpy as np
import optax
import pytest

import pmm
from tests.modules import Scale

ADAM = optax.adam(1e-2)


def train(epochs, **options):
    x = jax.random.normal(jax.random.key(0), (16, 3))
    params, state = Scale(factor=0.0).init(None, (3,))
    defaults = {"batch_size": 8, "optimizer": ADAM, "progress": False, "restore_best": False}
    return pmm.fit(Scale(), params, state, x, 2 * x, epochs=epochs, **defaults | options)


def assert_same_params(actual, expected):
    np.testing.assert_array_equal(actual.params["s"], expected.params["s"])
    np.testing.assert_array_equal(actual.history["loss"], expected.history["loss"])


def test_ctrl_c_in_a_host_callback_returns_the_epoch_it_saw():
    def interrupt(result):
        if result.epochs_run == 4:
            raise KeyboardInterrupt

    result = train(10, host_callback=interrupt)
    assert (result.stopped, result.epochs_run) == ("interrupted", 4)
    assert_same_params(result, train(4))


@pytest.mark.slow
def test_ctrl_c_while_epochs_run_returns_the_last_completed_ones():
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 2.0)
    try:
        result = train(10**7)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0.0)
        signal.signal(signal.SIGALRM, previous)
    assert result.stopped == "interrupted"
    assert 0 < result.epochs_run == len(result.history["loss"]) < 10**7
    assert_same_params(result, train(result.epochs_run))
