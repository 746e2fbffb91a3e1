"""Checkpoints: atomic zip files of the whole training state; resuming is bit-identical."""

import json
import zipfile

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import pmm
from tests.modules import Dense

ADAM = optax.adam(1e-2)
MODEL = Dense(features=2)


def data(samples=30):
    x = jax.random.normal(jax.random.key(0), (samples, 3))
    return x, jnp.sin(x[:, :2])


def train(path=None, **options):
    params, state = MODEL.init(jax.random.key(1), (3,))
    x, y = data()
    options = {
        "epochs": 12,
        "batch_size": 8,
        "optimizer": ADAM,
        "progress": False,
        "rng": jax.random.key(2),
        "validation": (x[:10], y[:10]),
        "checkpoint": path,
    } | options
    return pmm.fit(MODEL, params, state, x, y, **options)


def interrupt_at(epoch):
    def callback(result):
        if result.epochs_run == epoch:
            raise KeyboardInterrupt

    return callback


def assert_same_result(actual, expected):
    for left, right in zip(
        jax.tree.leaves(actual.params), jax.tree.leaves(expected.params), strict=True
    ):
        np.testing.assert_array_equal(left, right)
    for left, right in zip(
        jax.tree.leaves(actual.opt_state), jax.tree.leaves(expected.opt_state), strict=True
    ):
        np.testing.assert_array_equal(left, right)
    for name in ("loss", "val_loss"):
        np.testing.assert_array_equal(actual.history[name], expected.history[name])
    assert (actual.best_epoch, actual.epochs_run, actual.stopped) == (
        expected.best_epoch,
        expected.epochs_run,
        expected.stopped,
    )


def test_an_interrupted_and_resumed_run_is_bit_identical_to_an_uninterrupted_one(tmp_path):
    path = tmp_path / "run.ckpt"
    uninterrupted = train()
    stopped = train(path, checkpoint_every=4, host_callback=interrupt_at(6))
    assert (stopped.stopped, stopped.epochs_run) == ("interrupted", 6)
    resumed = train(path, checkpoint_every=4, resume=True)
    assert_same_result(resumed, uninterrupted)


def test_a_crashed_run_resumes_from_its_last_periodic_checkpoint(tmp_path):
    path = tmp_path / "run.ckpt"

    def crash(result):
        if result.epochs_run == 6:
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError, match="power cut"):
        train(path, checkpoint_every=4, host_callback=crash)
    with np.load(path, allow_pickle=False) as archive:
        assert archive["history_loss"].shape == (4,)
    assert_same_result(train(path, checkpoint_every=4, resume=True), train())


def test_resuming_a_finished_run_returns_its_result(tmp_path):
    path = tmp_path / "run.ckpt"
    finished = train(path, epochs=4)
    again = train(path, epochs=4, resume=True)
    assert_same_result(again, finished)


def test_resuming_without_a_checkpoint_file_starts_afresh(tmp_path):
    assert_same_result(train(tmp_path / "missing.ckpt", epochs=3, resume=True), train(epochs=3))


def test_the_checkpoint_is_a_zip_of_arrays_with_a_json_header(tmp_path):
    path = tmp_path / "run.ckpt"
    train(path, epochs=2)
    assert zipfile.is_zipfile(path)
    with np.load(path, allow_pickle=False) as archive:
        header = json.loads(archive["header"].tobytes())
        assert header["format"] == "pmm-checkpoint"
        assert (header["setup"]["samples"], header["setup"]["batch_size"]) == (30, 8)
        assert archive["history_loss"].shape == (2,)


def test_no_temporary_files_are_left_beside_the_checkpoint(tmp_path):
    train(tmp_path / "run.ckpt", epochs=3, checkpoint_every=1)
    assert [entry.name for entry in tmp_path.iterdir()] == ["run.ckpt"]


def test_resuming_with_another_batch_size_is_refused(tmp_path):
    path = tmp_path / "run.ckpt"
    train(path, epochs=2)
    with pytest.raises(pmm.LoadError, match=r"run\.ckpt.*batch_size"):
        train(path, epochs=2, batch_size=10, resume=True)


def test_resuming_with_another_model_is_refused(tmp_path):
    path = tmp_path / "run.ckpt"
    train(path, epochs=2)
    params, state = Dense(features=3).init(jax.random.key(1), (3,))
    with pytest.raises(pmm.LoadError, match=r"run\.ckpt.*model"):
        pmm.fit(
            Dense(features=3),
            params,
            state,
            *data(),
            epochs=2,
            batch_size=8,
            checkpoint=path,
            resume=True,
            progress=False,
        )


def test_a_corrupted_checkpoint_raises_load_error_naming_the_file(tmp_path):
    path = tmp_path / "run.ckpt"
    path.write_bytes(b"not a zip file")
    with pytest.raises(pmm.LoadError, match=r"run\.ckpt"):
        train(path, epochs=2, resume=True)


def test_resume_needs_a_checkpoint_path():
    with pytest.raises(ValueError, match="checkpoint=<path"):
        train(resume=True)
