"""Training checkpoints: the whole training state in one zip file, written atomically.

The file is ``numpy.savez``-style ``.npy`` members (one per array, read back with
``allow_pickle=False``) plus a JSON header. Restoring needs templates (the state a fresh run
would start from) that give the tree structures; the saved leaves must match them in order,
shape and dtype.
"""

import json
import os
import zipfile
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from pmm._atomic import atomic_write
from pmm.errors import LoadError

FORMAT = "pmm-checkpoint"
FORMAT_VERSION = 1


def save_checkpoint(
    path: str | os.PathLike[str],
    state: Any,
    rng: jax.Array,
    history: dict[str, np.ndarray],
    setup: dict[str, int],
) -> None:
    """Write ``state`` (a PyTree of arrays), ``rng``, ``history`` and ``setup`` to ``path``.

    ``setup`` holds the integers a resumed run must agree with (sample count, batch size).
    In a multi-process run only process 0 writes (every array is replicated).
    """
    if jax.process_index() != 0:
        return
    import pmm

    leaves = jax.tree_util.tree_leaves_with_path(state)
    arrays = {f"leaf{index}": np.asarray(leaf) for index, (_, leaf) in enumerate(leaves)}
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "pmm_version": pmm.__version__,
        "setup": setup,
        "rng_impl": str(jax.random.key_impl(rng)),
        "history": sorted(history),
        "leaves": [
            {
                "path": jax.tree_util.keystr(path),
                "shape": list(array.shape),
                "dtype": array.dtype.name,
            }
            for (path, _), array in zip(leaves, arrays.values(), strict=True)
        ],
    }
    arrays["rng"] = np.asarray(jax.random.key_data(rng))
    arrays.update({f"history_{name}": values for name, values in history.items()})
    arrays["header"] = np.array(json.dumps(header))
    with atomic_write(path) as file, zipfile.ZipFile(file, "w") as archive:
        for name, array in arrays.items():  # what numpy.savez writes, never pickling
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def load_checkpoint(
    path: str | os.PathLike[str], template: Any, setup: dict[str, int]
) -> tuple[Any, jax.Array, dict[str, np.ndarray]]:
    """``(state, rng, history)`` from ``path``; ``state`` has ``template``'s tree structure.

    Raises ``pmm.LoadError`` naming the file and what does not match.
    """
    try:
        with np.load(path, allow_pickle=False) as archive:
            header = json.loads(str(archive["header"]))
            if header.get("format") != FORMAT or header.get("format_version") != FORMAT_VERSION:
                raise LoadError(
                    f"checkpoint {os.fspath(path)!r} is not a pmm checkpoint of format version "
                    f"{FORMAT_VERSION} (header says {header.get('format')!r} "
                    f"{header.get('format_version')!r})"
                )
            _check_setup(path, header["setup"], setup)
            leaves, treedef = jax.tree_util.tree_flatten_with_path(template)
            _check_leaves(path, header["leaves"], leaves)
            state = [jnp.asarray(archive[f"leaf{index}"]) for index in range(len(leaves))]
            rng = jax.random.wrap_key_data(jnp.asarray(archive["rng"]), impl=header["rng_impl"])
            history = {name: archive[f"history_{name}"] for name in header["history"]}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as error:
        if isinstance(error, LoadError):
            raise
        raise LoadError(
            f"cannot resume from checkpoint {os.fspath(path)!r}: {type(error).__name__}: {error}"
        ) from error
    return jax.tree.unflatten(treedef, state), rng, history


def _check_setup(path: Any, saved: dict[str, int], expected: dict[str, int]) -> None:
    if saved != expected:
        raise LoadError(
            f"checkpoint {os.fspath(path)!r} was written for {saved} but this run has {expected}; "
            "resume with the same data and batch_size, or start afresh with resume=False"
        )


def _check_leaves(path: Any, saved: list[dict[str, Any]], template: list[Any]) -> None:
    if len(saved) != len(template):
        raise LoadError(
            f"checkpoint {os.fspath(path)!r} holds {len(saved)} arrays but this run's params, "
            f"state and optimizer state have {len(template)}; resume with the same model, "
            "trainable selection and optimizer"
        )
    for entry, (key_path, leaf) in zip(saved, template, strict=True):
        expected = {"shape": list(leaf.shape), "dtype": jnp.dtype(leaf.dtype).name}
        got = {"shape": entry["shape"], "dtype": entry["dtype"]}
        if got != expected:
            raise LoadError(
                f"checkpoint {os.fspath(path)!r}: array {jax.tree_util.keystr(key_path)} has "
                f"shape {tuple(got['shape'])} dtype {got['dtype']}, but this run expects shape "
                f"{tuple(expected['shape'])} dtype {expected['dtype']}; resume with the same "
                "model, optimizer and dtypes"
            )
