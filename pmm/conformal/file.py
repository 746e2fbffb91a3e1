"""Saving a calibration: its scores and a fingerprint of its model, in one safe file.

The file follows the rules of ``pmm.save``'s (``pmm.io.document``): a zip of ``.npy`` members
that ``numpy.load(path, allow_pickle=False)`` reads, a JSON header, atomic writes, nothing ever
unpickled. It does not hold the model: save that with ``pmm.save``. Loading takes the model,
params and state, and refuses them unless their fingerprint (a SHA-256 of the spec and every
array, ``pmm.conformal.fingerprint``) is the one the calibration was made with.

Header: ``{"format": "pmm-conformal", "format_version": 1, "pmm_version", "score", "outputs",
"batch_size", "fingerprint", "scores", "reference", "input_scale", "normalisers", "arrays"}``;
the last five as in ``docs/format.md`` (trees of array members, and their records).

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
from pmm.io import pmm_version
from pmm.io.archive import FileProblem
from pmm.io.document import open_archive, read_header, read_trees, write_document
from pmm.module import Module
from pmm.typing import Params, State

FORMAT = "pmm-conformal"
FORMAT_VERSION = 1
_TREES = ("scores", "reference", "input_scale", "normalisers")


def save(path: str | os.PathLike[str], cal: Calibration) -> None:
    """Write ``cal``'s scores, heuristic and model fingerprint to ``path``, atomically.

    Examples
    --------
    >>> pmm.conformal.save("calibration.pmmc", cal)  # doctest: +SKIP
    """
    heuristic = cal.heuristic or Heuristic(None, None, None)
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "pmm_version": pmm_version(),
        "score": cal.score,
        "outputs": cal.outputs,
        "batch_size": cal.batch_size,
        "fingerprint": cal.fingerprint,
    }
    trees = {
        "scores": cal.scores,
        "reference": heuristic.reference,
        "input_scale": heuristic.input_scale,
        "normalisers": heuristic.normalisers,
    }
    write_document(path, header, trees)


def load(path: str | os.PathLike[str], model: Module, params: Params, state: State) -> Calibration:
    """The calibration saved at ``path``, for ``model``, ``params`` and ``state``.

    Raises
    ------
    pmm.LoadError
        The file is missing, corrupted or not a calibration, or it was made for another model
        (another spec, or other params or state): the message names the file and the reason.
    """
    try:
        with open_archive(path) as archive:
            header = read_header(archive)
            _check_header(header)
            scores, reference, input_scale, normalisers = read_trees(archive, header, _TREES)
    except FileProblem as problem:
        raise LoadError(f"cannot load {os.fspath(path)}: {problem}") from problem.__cause__
    found = fingerprint(model, params, state)
    if found != header["fingerprint"]:
        raise LoadError(
            f"cannot load {os.fspath(path)}: it calibrates another model (fingerprint "
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
    if header.get("format") != FORMAT:
        raise FileProblem(f'not a conformal calibration (no "format": "{FORMAT}")')
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
        or header.get("scores") is None
        or (header.get("score") == "normalized" and header.get("normalisers") is None)
    ):
        raise FileProblem("the header is malformed")
