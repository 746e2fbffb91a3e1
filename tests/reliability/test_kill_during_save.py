"""A process killed (SIGKILL) while it writes a file loses nothing that was saved before.

The child process stalls half-way through writing (the header member is written, the first
array member is open), says so, and the test kills it with ``SIGKILL``: no handler, no cleanup.
The previous file must be intact, the next save must sweep the killed writer's temporary file,
and a training run killed while writing a checkpoint must resume from the previous one,
bit-identical to a run that was never killed.
"""

import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import pmm
from tests.reliability import craft
from tests.reliability.measured import ROOT
from tests.test_train_checkpoint import assert_same_result, train

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

#: The child's deadline: a child that never reaches its stall is killed after this many seconds.
DEADLINE = 120


def stall_the_next_write():
    """From now on, the second ``.npy`` member written sleeps (after saying ``writing``)."""
    write_array, calls = np.lib.format.write_array, []

    def stalled(*args, **kwargs):
        calls.append(None)
        if len(calls) == 2:
            print("writing", flush=True)
            time.sleep(DEADLINE)
        return write_array(*args, **kwargs)

    np.lib.format.write_array = stalled


def _kill_while_writing(code, path):
    """Run ``code`` (with ``sys.argv[1] == path``) in a child; SIGKILL it once it stalls."""
    with subprocess.Popen(
        [sys.executable, "-c", code, str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as child:
        deadline = threading.Timer(DEADLINE, child.kill)
        deadline.start()
        try:
            said = child.stdout.readline()
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
        finally:
            deadline.cancel()
        assert said == "writing\n", child.stderr.read()[-2000:]
    assert child.returncode == -signal.SIGKILL


_SAVE = """
import sys, jax.numpy as jnp, pmm
from tests.modules import Scale
from tests.reliability.test_kill_during_save import stall_the_next_write
stall_the_next_write()
pmm.save(sys.argv[1], Scale(5.0), {"s": jnp.ones(3)})
"""


@pytest.fixture
def saved(tmp_path):
    return craft.save_sample(tmp_path / "model.pmm")


def test_a_process_killed_mid_save_keeps_the_previous_file(saved):
    before = saved.read_bytes()
    _kill_while_writing(_SAVE, saved)
    assert saved.read_bytes() == before
    assert pmm.load(saved)[0] == craft.SAMPLE
    assert len(os.listdir(saved.parent)) == 2  # the killed writer's temporary file stays ...


def test_the_next_save_removes_the_temporary_file_of_a_killed_save(saved):
    _kill_while_writing(_SAVE, saved)
    pmm.save(saved, *pmm.load(saved))
    assert os.listdir(saved.parent) == [saved.name]  # ... until the next save sweeps it


_TRAIN = """
import sys
from pmm.train import checkpoint
from tests.reliability.test_kill_during_save import stall_the_next_write
from tests.test_train_checkpoint import train

write_file, saves = checkpoint.write_file, []

def third_stalls(*args):
    saves.append(None)
    if len(saves) == 3:
        stall_the_next_write()
    return write_file(*args)

checkpoint.write_file = third_stalls
train(sys.argv[1], checkpoint_every=2)
"""


@pytest.mark.slow
def test_a_run_killed_while_writing_a_checkpoint_resumes_bit_identical(tmp_path):
    path = tmp_path / "run.ckpt"
    _kill_while_writing(_TRAIN, path)  # killed while writing the checkpoint of epoch 6
    with np.load(path, allow_pickle=False) as archive:
        assert archive["history_loss"].shape == (4,)  # the checkpoint of epoch 4 is intact
    assert_same_result(train(path, checkpoint_every=2, resume=True), train())
