"""A checkpoint resumes only the run that wrote it: its setup is compared key by key.

``setup`` is what ``fit`` says identifies a run (a dict of JSON values); a checkpoint written by
a run with another setup is refused with a ``LoadError`` that names every entry that differs,
its value in the file and now, and says how to start afresh.
"""

import math

import numpy as np
import pytest

from tests.reliability import craft

SETUP = {
    "samples": 30,
    "batch_size": 8,
    "loss": "mse",
    "optimizer": {"name": "adam", "learning_rate": 0.01, "betas": [0.9, 0.999]},
    "target_loss": math.nan,
}


@pytest.fixture
def path(tmp_path):
    return craft.save_sample_checkpoint(tmp_path / "run.ckpt", SETUP)


def _refused(path, setup):
    message = craft.refused(lambda p: craft.load_sample_checkpoint(p, setup), path, "another run")
    assert "resume=False" in message and "delete" in message
    return message


def test_the_same_setup_resumes_in_any_key_order_and_container_kind(path):
    same = dict(reversed(SETUP.items())) | {
        "optimizer": {"betas": (0.9, 0.999), "learning_rate": 0.01, "name": "adam"},
        "samples": np.int64(30),
    }
    state, _, history = craft.load_sample_checkpoint(path, same)
    np.testing.assert_array_equal(state[0]["w"], craft.CHECKPOINT_STATE[0]["w"])
    np.testing.assert_array_equal(history["loss"], craft.CHECKPOINT_HISTORY["loss"])


def test_a_differing_entry_is_named_with_its_value_in_the_file_and_now(path):
    message = _refused(path, SETUP | {"batch_size": 10})
    assert "batch_size: 8 in the file, 10 now" in message
    assert "samples" not in message


def test_a_differing_entry_inside_a_nested_dict_is_named_by_its_path(path):
    setup = SETUP | {"optimizer": SETUP["optimizer"] | {"learning_rate": 0.001}}
    assert "optimizer.learning_rate: 0.01 in the file, 0.001 now" in _refused(path, setup)


def test_a_differing_list_item_is_named_by_its_index(path):
    setup = SETUP | {"optimizer": SETUP["optimizer"] | {"betas": [0.9, 0.99]}}
    assert "optimizer.betas[1]: 0.999 in the file, 0.99 now" in _refused(path, setup)


def test_entries_present_on_one_side_only_are_named(path):
    setup = {key: value for key, value in SETUP.items() if key != "loss"} | {"data": "ab12"}
    message = _refused(path, setup)
    assert 'data: not in the file, "ab12" now' in message
    assert 'loss: "mse" in the file, not given now' in message


def test_a_bool_differs_from_the_int_it_equals_in_python(tmp_path):
    path = craft.save_sample_checkpoint(tmp_path / "run.ckpt", {"shuffle": True})
    assert "shuffle: true in the file, 1 now" in _refused(path, {"shuffle": 1})


def test_long_values_are_shortened(path):
    message = _refused(path, SETUP | {"loss": "x" * 500})
    assert '"xxxxxxxx' in message and "..." in message and len(message) < 400


def test_many_differences_are_counted_after_the_first_few(path):
    setup = SETUP | {f"extra{index:02}": index for index in range(10)}
    message = _refused(path, setup)
    assert "extra05" in message and "extra06" not in message and "and 4 more" in message


def test_a_setup_that_is_not_json_is_refused_at_save_naming_the_entry(tmp_path):
    with pytest.raises(TypeError, match=r"setup\['model'\] holds a object"):
        craft.save_sample_checkpoint(tmp_path / "run.ckpt", {"model": object()})
    assert list(tmp_path.iterdir()) == []
