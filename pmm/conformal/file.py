"""Saving a calibration: its scores and a fingerprint of its model, in one safe file.

The file is the container ``pmm.save`` writes (``pmm.io.archive``): a zip of ``.npy`` members
that ``numpy.load(path, allow_pickle=False)`` reads and a JSON header, written atomically, read
back by the same hardened reader, never unpickled. It does not hold the model: save that with
``pmm.save``. Loading takes the model, params and state, and refuses them unless their
fingerprint (a SHA-256 of the spec and every array, ``pmm.conformal.fingerprint``) is the one
the calibration was made with. ``docs/format.md`` ("Conformal calibrations") lists the header.

Examples
--------
>>> pmm.conformal.save("calibration.pmmc", cal)  # doctest: +SKIP
>>> cal = pmm.conformal.load("calibration.pmmc", model, params, state)  # doctest: +SKIP
"""

import os
from typing import Any

from pmm.conformal.calibration import (
    CLASSIFICATION_SCORES,
    OUTPUTS,
    REGRESSION_SCORES,
    Calibration,
)
from pmm.conformal.fingerprint import fingerprint
from pmm.conformal.heuristic import Heuristic
from pmm.errors import LoadError
from pmm.io.archive import Arrays, open_file, write_file
from pmm.io.filesystem import file_path
from pmm.io.npy import needs_x64
from pmm.io.problem import FileProblem, shortened
from pmm.io.trees import load_tree, store_tree
from pmm.module import Module
from pmm.typing import Params, State

FORMAT = "pmm-conformal"
FORMAT_VERSION = 1
_TREES = ("scores", "reference", "input_scale", "normalisers")


def save(path: str | bytes | os.PathLike[str], cal: Calibration) -> None:
    """Write ``cal``'s scores, heuristic and model fingerprint to ``path``, atomically.

    Examples
    --------
    >>> pmm.conformal.save("calibration.pmmc", cal)  # doctest: +SKIP
    """
    import pmm

    path = file_path(path)
    heuristic = cal.heuristic or Heuristic(None, None, None)
    arrays = Arrays()
    trees = {
        "scores": cal.scores,
        "reference": heuristic.reference,
        "input_scale": heuristic.input_scale,
        "normalisers": heuristic.normalisers,
    }
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "pmm_version": pmm.__version__,
        "score": cal.score,
        "outputs": cal.outputs,
        "batch_size": cal.batch_size,
        "fingerprint": cal.fingerprint,
    } | {name: store_tree(arrays, tree, name) for name, tree in trees.items()}
    write_file(path, header, arrays)


def load(
    path: str | bytes | os.PathLike[str], model: Module, params: Params, state: State
) -> Calibration:
    """The calibration saved at ``path``, for ``model``, ``params`` and ``state``.

    Raises
    ------
    pmm.LoadError
        The file is missing, corrupted or not a calibration, or it was made for another model
        (another spec, or other params or state): the message names the file and the reason.
    """
    name = file_path(path)
    try:
        with open_file(name, FORMAT) as stored:
            header = stored.header
            _check_header(header)
            loaded = stored.read_arrays()
        scores, reference, input_scale, normalisers = (
            load_tree(header[tree], loaded, tree) for tree in _TREES
        )
        if loaded:
            raise FileProblem(f"the header records arrays that no tree uses: {sorted(loaded)}")
    except FileProblem as problem:
        raise LoadError(f"cannot load {name}: {shortened(str(problem))}") from problem.__cause__
    found = fingerprint(model, params, state)
    if found != header["fingerprint"]:
        raise LoadError(
            f"cannot load {name}: it calibrates another model (fingerprint "
            f"{header['fingerprint'][:12]}..., but {type(model).__name__} with these params and "
            f"state has {found[:12]}...); load it with the model, params and state it was "
            "calibrated with, or calibrate this one"
        )
    heuristic = None
    if header["score"] == "normalized":
        heuristic = Heuristic(reference, input_scale, normalisers)
    return Calibration(
        model=model,
        params=params,
        state=state,
        score=header["score"],
        scores=scores,
        outputs=header["outputs"],
        heuristic=heuristic,
        batch_size=header["batch_size"],
        fingerprint=found,
    )


def _check_header(header: dict[str, Any]) -> None:
    """``FileProblem`` unless ``header`` is a calibration header this pmm reads."""
    if header.get("format_version") != FORMAT_VERSION:
        raise FileProblem(
            f"unknown format version {header.get('format_version')!r} (this pmm reads "
            f"{FORMAT_VERSION})"
        )
    batch_size = header.get("batch_size")
    if (
        header.get("score") not in REGRESSION_SCORES + CLASSIFICATION_SCORES
        or header.get("outputs") not in (None, *OUTPUTS)
        or not isinstance(header.get("fingerprint"), str)
        or not (batch_size is None or (type(batch_size) is int and batch_size > 0))
        or any(tree not in header for tree in _TREES)
        or header["scores"] is None
        or (header["score"] == "normalized" and header["normalisers"] is None)
    ):
        raise FileProblem("the header is malformed")
    wide = [record["path"] for record in header["arrays"].values() if needs_x64(record["dtype"])]
    if wide:
        raise FileProblem(f"{wide[0]} needs 64-bit JAX: enable jax_enable_x64 before loading")
