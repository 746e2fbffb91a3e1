"""kill -9 during training, even in the middle of writing a checkpoint, loses nothing: the last
complete checkpoint survives, and resuming from it ends bit-identical to an uninterrupted run.

The training runs in a subprocess that is killed outright (SIGKILL: no cleanup, no finally
blocks); the resume runs in this process, so the run's setup must also agree across processes.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time

import jax
import numpy as np
import optax
import pytest

import pmm
from tests.modules import Dense

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

#: Trains with a checkpoint after every epoch; with a positive ``kill_at`` it kills itself with
#: SIGKILL at that call of ``os.fsync``: atomic writes fsync the finished temporary file before
#: renaming it over the checkpoint, so the kill lands inside a checkpoint write.
SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, os.getcwd())
    from tests.reliability.test_train_kill_resume import train

    path, epochs, kill_at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    calls = 0
    fsync = os.fsync

    def fsync_then_die(descriptor):
        global calls
        calls += 1
        if calls == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        fsync(descriptor)

    os.fsync = fsync_then_die
    train(epochs, checkpoint=path, checkpoint_every=1, resume=True)
    """
)


ADAM = optax.adam(1e-2)  # one object: the resumed and the reference run share a compilation


def train(epochs, **options):
    x = jax.random.normal(jax.random.key(0), (24, 3))
    model = Dense(features=2)
    params, state = model.init(jax.random.key(1), (3,))
    return pmm.fit(
        model, params, state, x, np.sin(x[:, :2]), epochs=epochs, batch_size=8,
        optimizer=ADAM, validation=(x[:8], np.sin(x[:8, :2])), progress=False,
        **options,
    )  # fmt: skip


def start(path, epochs, kill_at=0):
    environment = os.environ | {"JAX_PLATFORMS": "cpu", "PYTHONPATH": ROOT}
    command = [sys.executable, "-c", SCRIPT, str(path), str(epochs), str(kill_at)]
    return subprocess.Popen(command, cwd=ROOT, env=environment, stderr=subprocess.PIPE)


def saved_epochs(path):
    with np.load(path, allow_pickle=False) as archive:
        return archive["history_loss"].shape[0]


def assert_bit_identical(actual, expected):
    for left, right in zip(
        jax.tree.leaves((actual.params, actual.opt_state, actual.history)),
        jax.tree.leaves((expected.params, expected.opt_state, expected.history)),
        strict=True,
    ):
        np.testing.assert_array_equal(left, right)
    assert (actual.epochs_run, actual.best_epoch) == (expected.epochs_run, expected.best_epoch)


def test_a_kill_inside_a_checkpoint_write_keeps_the_last_checkpoint_and_resumes(tmp_path):
    path = tmp_path / "run.ckpt"
    # Each save fsyncs the file and its directory: call 5 is the file of the third save.
    process = start(path, epochs=6, kill_at=5)
    _, errors = process.communicate(timeout=300)
    assert process.returncode == -signal.SIGKILL, errors.decode()
    assert saved_epochs(path) == 2
    assert any(name.endswith(".tmp") for name in os.listdir(tmp_path))  # the write it cut short
    resumed = train(6, checkpoint=path, checkpoint_every=1, resume=True)
    assert_bit_identical(resumed, train(6))
    assert os.listdir(tmp_path) == ["run.ckpt"]  # the dead writer's temporary file is swept


@pytest.mark.slow
def test_a_kill_at_a_random_moment_resumes_bit_identical(tmp_path):
    path = tmp_path / "run.ckpt"
    process = start(path, epochs=10**6)
    deadline = time.monotonic() + 240
    while not (path.exists() and saved_epochs(path) >= 3) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(np.random.default_rng().uniform(0, 0.2))
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    epochs = saved_epochs(path) + 3
    resumed = train(epochs, checkpoint=path, checkpoint_every=1, resume=True)
    assert_bit_identical(resumed, train(epochs))
