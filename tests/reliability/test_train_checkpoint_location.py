"""A checkpoint that cannot be written never costs the training: the location is checked before
the first epoch, and a write that fails later stops training and returns everything so far."""

import os
import shutil
import sys

import jax
import numpy as np
import optax
import pytest

import pmm
from tests.modules import Scale

X = jax.random.normal(jax.random.key(0), (12, 3))


def train(epochs=4, **options):
    params, state = Scale(factor=0.0).init(None, (3,))
    defaults = {"batch_size": 4, "optimizer": optax.adam(0.1), "progress": False}
    return pmm.fit(Scale(), params, state, X, 2 * X, epochs=epochs, **defaults | options)


def refused_before_training(path, message):
    epochs = []
    with pytest.raises(ValueError, match=message):
        train(checkpoint=path, host_callback=lambda result: epochs.append(result.epochs_run))
    assert epochs == []


def test_a_missing_directory_is_refused_before_the_first_epoch(tmp_path):
    refused_before_training(
        tmp_path / "missing" / "run.ckpt",
        r"checkpoint=.*run\.ckpt.*cannot be written.*create the directory",
    )


def test_a_directory_is_refused_as_a_checkpoint_path(tmp_path):
    refused_before_training(tmp_path, r"checkpoint=.* is a directory")


@pytest.mark.skipif(sys.platform != "linux", reason="/sys is Linux's")
def test_a_read_only_location_is_refused_before_the_first_epoch():
    refused_before_training("/sys/pmm-run.ckpt", r"cannot be written: PermissionError")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes anywhere")
def test_a_directory_without_write_permission_is_refused(tmp_path):
    tmp_path.chmod(0o500)
    try:
        refused_before_training(tmp_path / "run.ckpt", r"cannot be written: PermissionError")
    finally:
        tmp_path.chmod(0o700)


def remove_directory_after(epoch, directory):
    def host_callback(result):
        if result.epochs_run == epoch:
            shutil.rmtree(directory)

    return host_callback


def test_a_periodic_write_that_fails_stops_training_and_returns_what_was_trained(tmp_path):
    directory = tmp_path / "runs"
    directory.mkdir()
    result = train(
        8,
        checkpoint=directory / "run.ckpt",
        checkpoint_every=2,
        host_callback=remove_directory_after(2, directory),
    )
    assert result.stopped.startswith("checkpoint failed: FileNotFoundError")
    assert result.epochs_run == 4
    np.testing.assert_array_equal(result.params["s"], train(4).params["s"])


def test_a_final_write_that_fails_says_so_and_keeps_the_result(tmp_path):
    directory = tmp_path / "runs"
    directory.mkdir()
    result = train(
        3, checkpoint=directory / "run.ckpt", host_callback=remove_directory_after(1, directory)
    )
    assert result.stopped.startswith("checkpoint failed:")
    assert result.epochs_run == 3
    np.testing.assert_array_equal(result.params["s"], train(3).params["s"])
