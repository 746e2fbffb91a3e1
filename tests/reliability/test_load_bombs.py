"""Hostile files cost time and memory in proportion to their size, and end in pmm.LoadError.

Every file here is small, but a naive reader spends far more on it than its size: it allocates
the data of overlapping members once per member, traces ``init`` over a huge model a short
header names, reads a device without end or waits on a FIFO forever. Each file is loaded in a
fresh process that measures the load's time and peak memory growth (``measured.py``).
"""

import os
import pathlib

import jax
import numpy as np
import pytest

import pmm
from tests.reliability import craft
from tests.reliability.measured import load_in_child

if not os.path.exists("/proc/self/statm"):
    pytest.skip("the child measures its memory in /proc (Linux)", allow_module_level=True)

#: Bounds for every load below: generous for a busy 2-core machine, yet far below what each file
#: cost before pmm refused it (the overlapping members ~400 MB, the MLP header ~500 MB and 30 s,
#: /dev/zero everything there is, the FIFO forever). The MLP header's 80,000 layer specs cost about
#: 1 KB each to build before the refusal (linear in the header's size): that sets the memory bound.
MAX_SECONDS = 15
MAX_GROWTH_MB = 128


def _overlapping_members(directory):
    names = [f"params/{index}" for index in range(400)]

    def header(sizes):
        return {
            "format": "pmm",
            "format_version": pmm.io.FORMAT_VERSION,
            "pmm_version": pmm.__version__,
            "module": {"class": "pmm.Tanh", "version": 1, "hyperparams": {}},
            "input_shape": None,
            "params": {"tuple": [{"array": name} for name in names]},
            "state": {"tuple": []},
            "arrays": {
                name: {
                    "path": f"params[{index}]",
                    "dtype": "uint8",
                    "shape": [sizes[f"{name}.npy"]],
                }
                for index, name in enumerate(names)
            },
        }

    path = directory / "overlapping.pmm"
    path.write_bytes(craft.overlapping_zip(header, [f"{name}.npy" for name in names], 1 << 20))
    return path


def _huge_model_header(directory):
    """A few hundred kilobytes naming MLP(hidden=(1,) * 40_000), with the arrays of MLP((1,))."""
    path = directory / "huge_model.pmm"
    model = pmm.nn.MLP(hidden=(1,), features=1)
    params, state = model.init(jax.random.key(0), (1,))
    pmm.save(path, model, params, state, input_shape=(1,))

    def widen(header):
        header["module"]["hyperparams"]["hidden"] = [1] * 40_000

    return craft.with_header(path, widen)


def _declared_array(directory, name, shape):
    """A file whose one array's record and ``.npy`` header declare ``shape``, with no data."""
    header = {
        "format": "pmm",
        "format_version": pmm.io.FORMAT_VERSION,
        "pmm_version": pmm.__version__,
        "module": {"class": "pmm.Tanh", "version": 1, "hyperparams": {}},
        "input_shape": None,
        "params": {"array": "params/0"},
        "state": {"tuple": []},
        "arrays": {"params/0": {"path": "params", "dtype": "uint8", "shape": list(shape)}},
    }
    contents = {"header.npy": craft.header_npy(header)}
    contents["params/0.npy"] = craft.npy_prefix(np.uint8, shape)
    return craft.write_members(directory / name, contents)


def _directory_claiming_more_than_the_file(directory):
    valid = directory / "valid.pmm"
    pmm.save(valid, pmm.nn.Tanh(), {"w": np.zeros(4, np.float32)})
    entries = [(name, data, None) for name, data in craft.members(valid).items()]
    entries[-1] = (*entries[-1][:2], 1 << 31)
    path = directory / "claims_more.pmm"
    path.write_bytes(craft.raw_zip(entries))
    return path


def _huge_header(directory):
    text = b"{" + b" " * (pmm.io.archive.MAX_HEADER_BYTES + 1) + b"}"
    contents = {"header.npy": craft.npy(np.frombuffer(text, np.uint8))}
    return craft.write_members(directory / "huge_header.pmm", contents)


def _fifo(directory):
    path = directory / "fifo.pmm"
    os.mkfifo(path)
    return path


def _link_to_dev_zero(directory):
    path = directory / "zero.pmm"
    path.symlink_to("/dev/zero")
    return path


#: case: (how to build it in a directory, what the LoadError must say, whether it can be built).
CASES = {
    "overlapping members": (_overlapping_members, "overlap", True),
    "a small header naming a huge model": (_huge_model_header, "expands into more than", True),
    "a member declaring 2**40 bytes": (
        lambda d: _declared_array(d, "declares.pmm", (1 << 40,)),
        "needs 1099511627776",
        True,
    ),
    "a shape whose size overflows int64": (
        lambda d: _declared_array(d, "overflows.pmm", (1 << 32, 1 << 32, 16)),
        "truncated",
        True,
    ),
    "a zip directory claiming more data than the file": (
        _directory_claiming_more_than_the_file,
        "overlaps the zip directory",
        True,
    ),
    "a header larger than the limit": (_huge_header, "larger than", True),
    "/dev/zero": (
        lambda d: pathlib.Path("/dev/zero"),
        "character device",
        os.path.exists("/dev/zero"),
    ),
    "a symlink to /dev/zero": (_link_to_dev_zero, "character device", os.path.exists("/dev/zero")),
    "a FIFO": (_fifo, "FIFO", hasattr(os, "mkfifo")),
}


@pytest.fixture(scope="module")
def loads(tmp_path_factory):
    """The child's report for every case that can be built on this platform."""
    directory = tmp_path_factory.mktemp("bombs")
    paths = [(case, build(directory)) for case, (build, _, buildable) in CASES.items() if buildable]
    return load_in_child(paths)


@pytest.mark.parametrize("case", CASES)
def test_a_hostile_file_is_refused_at_a_cost_bounded_by_its_size(loads, case):
    _, reason, buildable = CASES[case]
    if not buildable:
        pytest.skip(f"{case} cannot be made on this platform")
    assert case in loads, f"the load never finished: {loads['unfinished']}"
    result = loads[case]
    assert result["outcome"].startswith("LoadError: ") and reason in result["outcome"], result
    assert result["seconds"] < MAX_SECONDS, result
    assert result["grown_mb"] < MAX_GROWTH_MB, result
