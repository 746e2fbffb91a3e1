"""Case (e): ``pmm.save`` then ``pmm.load`` of a ~100 MB model, against ``numpy.savez`` +
``numpy.load`` of the same arrays.

The model is an MLP 2048-2048x5-2048 in float32: 6 weight matrices of 2048 x 2048 and their biases,
25.2 M parameters, 100.7 MB. Both contenders write into the same temporary directory (on the disk
of the working directory, not a RAM disk) and read every array back. ``pmm.save`` writes
atomically (temporary file, ``fsync``, rename), records a JSON header and checks shapes and dtypes
on load; ``numpy.savez`` does none of that, so it is the limit.
"""

import os
import tempfile
from collections.abc import Callable

import jax
import numpy as np

import pmm
from benchmarks.timing import Row, interleaved, require

TARGET = 1.5


def model_and_params(width: int, layers: int) -> tuple[pmm.Module, object]:
    """An MLP ``width -> width x (layers - 1) -> width`` and its float32 params."""
    mlp = require(pmm.nn, "MLP")(hidden=(width,) * (layers - 1), features=width)
    params, _ = mlp.init(jax.random.key(0), (width,))
    return mlp, params


def pmm_contenders(
    path: str, module: pmm.Module, params: object
) -> dict[str, Callable[[], object]]:
    """``pmm.save`` alone, ``pmm.load`` alone (of the file the save wrote), and both in turn."""
    save, load = require(pmm, "save"), require(pmm, "load")

    def round_trip() -> object:
        save(path, module, params)
        return load(path)[1]

    return {
        "save": lambda: save(path, module, params),
        "load": lambda: load(path)[1],
        "": round_trip,
    }


def numpy_contenders(path: str, params: object) -> dict[str, Callable[[], object]]:
    """``numpy.savez`` of the params' leaves, ``numpy.load`` of every array, and both in turn."""
    leaves = [np.asarray(leaf) for leaf in jax.tree.leaves(params)]

    def load() -> object:
        with np.load(path) as archive:
            return [archive[name] for name in archive.files]

    def round_trip() -> object:
        np.savez(path, *leaves)
        return load()

    return {"save": lambda: np.savez(path, *leaves), "load": load, "": round_trip}


def run(quick: bool = False) -> list[Row]:
    """The case (e) row (save + load, with the target), then save and load alone (no target)."""
    width, layers, rounds = (64, 3, 3) if quick else (2048, 6, 11)
    module, params = model_and_params(width, layers)
    megabytes = sum(leaf.nbytes for leaf in jax.tree.leaves(params)) / 1e6
    with tempfile.TemporaryDirectory(dir=os.getcwd()) as directory:
        sides = {
            "pmm": pmm_contenders(os.path.join(directory, "model.pmm"), module, params),
            "numpy": numpy_contenders(os.path.join(directory, "model.npz"), params),
        }
        contenders = {
            f"{side} {what}": work for side in sides for what, work in sides[side].items()
        }
        medians = interleaved(contenders, warmup=1, rounds=rounds)
    model = f"MLP {width}x{layers} float32 ({megabytes:.1f} MB)"
    return [
        Row(
            "e",
            f"{what or 'save + load'}, {model}",
            {side: medians[f"{side} {what}"] for side in sides},
            reference="numpy",
            target=None if what else TARGET,
        )
        for what in ("", "save", "load")
    ]
