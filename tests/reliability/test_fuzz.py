"""A seeded fuzz of model files and checkpoints: every mutant loads correctly or is a LoadError.

Damaged bytes must give ``pmm.LoadError`` naming the file, or the original content where the
damage hit bytes nothing reads (zip timestamps, say). Crafted headers (a node of the JSON
replaced by a value of another type, removed, or given a stray key) must give the error or a
valid load, never another exception. ``fuzzing.py`` makes the mutants and counts the outcomes.
"""

import jax
import numpy as np
import pytest

import pmm
from tests.modules import Counter, Dense, Scale
from tests.reliability import craft
from tests.reliability.fuzzing import byte_mutations, header_mutants, tally

MUTANTS = 300
MODEL = pmm.Sequential(
    Scale(2.0),
    Dense(features=2),
    Counter(),
    pmm.Parallel(first=pmm.Residual(Scale(0.5)), second=pmm.nn.MLP(hidden=(2,), features=1)),
)
SETUP = {
    "samples": 30,
    "batch_size": 8,
    "loss": "mse",
    "optimizer": {"name": "adam", "learning_rate": 0.01},
    "target_loss": float("nan"),
}


def _identical(left, right):
    leaves, other = jax.tree.leaves(left), jax.tree.leaves(right)
    return (
        jax.tree.structure(left) == jax.tree.structure(right)
        and len(leaves) == len(other)
        and all(
            a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
            for a, b in zip(leaves, other, strict=True)
        )
    )


def model_tallies(directory):
    """Outcome counts for byte and header mutants of a model file saved with its input_shape."""
    original = directory / "model.pmm"
    params, state = MODEL.init(jax.random.key(0), (3,))
    pmm.save(original, MODEL, params, state, input_shape=(3,))

    def same(loaded):
        return loaded[0] == MODEL and _identical(loaded[1:], (params, state))

    target = directory / "mutant.pmm"
    data = original.read_bytes()
    return {
        "model files, damaged bytes": tally(
            target, byte_mutations(data, 0, MUTANTS), pmm.load, same
        ),
        "model files, crafted headers": tally(
            target, header_mutants(original, 1, MUTANTS), pmm.load, same
        ),
    }


def checkpoint_tallies(directory):
    """Outcome counts for byte and header mutants of a checkpoint."""
    original = craft.save_sample_checkpoint(directory / "run.ckpt", SETUP)

    def load(path):
        return craft.load_sample_checkpoint(path, SETUP)

    def same(loaded):
        state, key, history = loaded
        return (
            _identical(state, craft.CHECKPOINT_STATE)
            and _identical(jax.random.key_data(key), jax.random.key_data(jax.random.key(7)))
            and _identical(history, craft.CHECKPOINT_HISTORY)
        )

    target = directory / "mutant.ckpt"
    data = original.read_bytes()
    return {
        "checkpoints, damaged bytes": tally(target, byte_mutations(data, 2, MUTANTS), load, same),
        "checkpoints, crafted headers": tally(
            target, header_mutants(original, 3, MUTANTS), load, same
        ),
    }


def all_tallies(directory=None):
    """Every tally of this file (for ``python -m tests.reliability.fuzzing``)."""
    import pathlib
    import tempfile

    directory = pathlib.Path(directory or tempfile.mkdtemp())
    return model_tallies(directory) | checkpoint_tallies(directory)


@pytest.fixture(scope="module")
def tallies(tmp_path_factory):
    return all_tallies(tmp_path_factory.mktemp("fuzz"))


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("model files, damaged bytes", {"error", "same"}),
        ("model files, crafted headers", {"error", "same", "other"}),
        ("checkpoints, damaged bytes", {"error", "same"}),
        ("checkpoints, crafted headers", {"error", "same"}),
    ],
)
def test_every_mutant_loads_correctly_or_is_a_load_error_naming_the_file(tallies, name, allowed):
    counts = tallies[name]
    assert sum(counts.values()) == MUTANTS
    assert set(counts) <= allowed, {key: n for key, n in counts.items() if key not in allowed}
    assert counts["error"] > MUTANTS // 2  # the fuzz reaches the reader, not only dead bytes
