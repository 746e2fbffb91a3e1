"""A damaged or crafted checkpoint is a pmm.LoadError naming the file, whatever the damage.

Checkpoints are read by the same hardened reader as model files (``test_fuzz.py`` fuzzes
both); these are the cases the issue found, and the checks that only checkpoints have.
"""

import numpy as np
import pytest

import pmm
from tests.reliability import craft
from tests.test_train_checkpoint import train

SETUP = {"samples": 30, "batch_size": 8}


@pytest.fixture
def path(tmp_path):
    return craft.save_sample_checkpoint(tmp_path / "run.ckpt", SETUP)


def _refused(path, reason):
    craft.refused(lambda p: craft.load_sample_checkpoint(p, SETUP), path, reason)


def test_an_empty_checkpoint_is_a_load_error_when_fit_resumes(tmp_path):
    path = tmp_path / "run.ckpt"
    path.write_bytes(b"")
    with pytest.raises(pmm.LoadError, match=r"run\.ckpt.*not a zip archive"):
        train(path, epochs=2, resume=True)


def test_an_array_that_differs_from_the_checkpoints_own_header_is_a_load_error(path):
    craft.put_array(path, "state/0", np.ones(3, np.float32))
    _refused(path, r"state/0\.npy holds <f4\[3\] but the header records <f4\[2\]")


def test_a_model_file_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "model.pmm"
    pmm.save(path, pmm.nn.Tanh(), ())
    _refused(path, "not a pmm-checkpoint header")


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("format_version", 1, "checkpoint format version 1"),
        ("format_version", "2", "checkpoint format version '2'"),
        ("setup", [8], "'setup' is not a dict"),
        ("rng_impl", "no_such_prng", "not a 'no_such_prng' key"),
        ("rng_impl", ["threefry2x32"], "'rng_impl' is not a str"),
        ("history", "loss", "'history' is not a list"),
        ("history", ["loss", "loss"], "not a list of distinct names"),
        ("history", ["loss"], "do not match its header's lists"),
    ],
)
def test_a_crafted_header_field_is_a_load_error_naming_it(path, field, value, reason):
    craft.with_header(path, lambda header: header.update({field: value}))
    _refused(path, reason)


def test_a_leaf_saved_at_another_tree_path_is_a_load_error(path):
    craft.with_header(path, lambda h: h["arrays"]["state/1"].update(path="state[9]"))
    _refused(path, r"array 1 is state\[9\] in the checkpoint but state\[0\]\['w'\] in this run")


def test_history_series_of_different_lengths_are_a_load_error(path):
    craft.put_array(path, "history_loss", np.ones(3, np.float32), recorded=True)
    _refused(path, r"history series differ in length \(\[3, 4\]")
