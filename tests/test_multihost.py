"""The multi-host recipe of examples/data_parallel.py, run: two processes on localhost.

Each process calls ``jax.distributed.initialize`` with the coordinator's address, has two CPU
devices, and trains with ``pmm.fit`` on one mesh over all four; the gradients cross processes
through gloo, JAX's CPU collectives. Both must end with the same params, equal to float
tolerance to a one-process, one-device run of the same training.
"""

import os
import socket
import subprocess
import sys

import jax
import numpy as np
import pytest

import pmm
from tests.test_examples import EXAMPLES, load_example


def free_port() -> int:
    """A TCP port nothing listens on now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_process(index: int, port: int, output) -> subprocess.Popen:
    """Process ``index`` of two running the example's multi-host recipe, writing to ``output``."""
    command = [
        sys.executable, str(EXAMPLES / "data_parallel.py"), "--smoke", "--devices", "2",
        "--coordinator", f"127.0.0.1:{port}", "--processes", "2", "--process-id", str(index),
        "--output", str(output),
    ]  # fmt: skip
    root = EXAMPLES.parent
    environment = os.environ | {"JAX_PLATFORMS": "cpu", "PYTHONPATH": str(root)}
    return subprocess.Popen(
        command,
        cwd=root,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_two_processes_train_on_one_mesh_to_the_params_of_a_one_process_run(tmp_path):
    port = free_port()
    processes = [start_process(index, port, tmp_path / f"process{index}") for index in (0, 1)]
    try:
        outputs = [process.communicate(timeout=240) for process in processes]
    finally:
        for process in processes:
            process.kill()
    for index, (process, (stdout, stderr)) in enumerate(zip(processes, outputs, strict=True)):
        assert process.returncode == 0, f"process {index} failed:\n{stderr}"
        assert f"Process {index} of 2, 2 cpu devices per process" in stdout
        assert "| mesh of 4 devices |" in stdout

    files = [tmp_path / f"process{index}" / "data_parallel.pmm" for index in (0, 1)]
    first, second = (jax.tree.leaves(pmm.load(path)[1]) for path in files)
    reference = jax.tree.leaves(load_example("data_parallel").train(smoke=True, mesh=None).params)
    for leaf_0, leaf_1, one_process in zip(first, second, reference, strict=True):
        np.testing.assert_array_equal(leaf_0, leaf_1)
        np.testing.assert_allclose(leaf_0, one_process, rtol=1e-5, atol=1e-6)
