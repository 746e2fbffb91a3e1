"""Resuming refuses a checkpoint written by another setup, instead of continuing it silently.

Each case trains a checkpoint, then resumes it with one thing changed. Besides the refusal, the
setups that two runs write are compared entry by entry, so each case also checks that exactly
the changed thing is what differs.
"""

import json

import jax
import numpy as np
import optax
import pytest

import pmm

X = jax.random.normal(jax.random.key(0), (16, 2))
Y = np.sin(np.asarray(X[:, :1]))
TANH_MLP = pmm.nn.MLP(hidden=(4,), features=1, activation="tanh")
PARAMS, STATE = TANH_MLP.init(jax.random.key(1), (2,))


def train(path, model=TANH_MLP, optimizer=None, x=X, resume=False, epochs=0):
    """A fit that writes its checkpoint (with 0 epochs, only its setup: nothing compiles)."""
    return pmm.fit(
        model, PARAMS, STATE, x, Y, optimizer=optimizer or optax.adam(1e-2), epochs=epochs,
        batch_size=8, progress=False, checkpoint=path, resume=resume,
    )  # fmt: skip


def setup(path):
    with np.load(path, allow_pickle=False) as archive:
        return json.loads(archive["header"].tobytes())["setup"]


CHANGES = {
    "tanh to relu": ({"model": pmm.nn.MLP(hidden=(4,), features=1, activation="relu")}, "model"),
    "MLP rebuilt as a Sequential": (
        {"model": pmm.nn.Linear(features=4) >> pmm.nn.Tanh() >> pmm.nn.Linear(features=1)},
        "model",
    ),
    "adam to adamw": ({"optimizer": optax.adamw(1e-2)}, "optimizer_state|optimizer_settings"),
    "another learning rate": ({"optimizer": optax.adam(1e-3)}, "optimizer_settings"),
    "other data of the same shape": ({"x": X + 1.0}, "data"),
}


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
def test_resuming_with_one_thing_changed_is_refused_naming_it(change, tmp_path):
    options, entries = CHANGES[change]
    train(tmp_path / "run.ckpt")
    train(tmp_path / "other.ckpt", **options)
    first, second = setup(tmp_path / "run.ckpt"), setup(tmp_path / "other.ckpt")
    assert {key for key in first if first[key] != second[key]} == set(entries.split("|"))
    with pytest.raises(pmm.LoadError, match=rf"run\.ckpt.*({entries})"):
        train(tmp_path / "run.ckpt", resume=True, **options)


def test_the_same_setup_built_again_from_new_objects_resumes(tmp_path):
    finished = train(tmp_path / "run.ckpt", epochs=2)
    again = train(
        tmp_path / "run.ckpt",
        model=pmm.nn.MLP(hidden=(4,), features=1, activation="tanh"),
        optimizer=optax.adam(1e-2),
        x=np.array(X),
        resume=True,
        epochs=2,
    )
    assert again.history["loss"].shape == (2,)
    np.testing.assert_array_equal(again.history["loss"], finished.history["loss"])
