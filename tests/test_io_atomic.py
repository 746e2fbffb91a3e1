"""atomic_write sweeps the temporary files of dead writers to its own target, and only those."""

import os
import sys

import pytest

from pmm import _atomic
from pmm._atomic import atomic_write

#: Above Linux's largest pid (2**22), so no process has it.
DEAD_PID = 99_999_999


def _temporary(directory, target, pid):
    """A temporary file as ``atomic_write`` names them, of a writer ``pid`` to ``target``."""
    path = directory / f".{target}.{_atomic._host()}.{pid}.abcd_123.tmp"
    path.write_bytes(b"partial")
    return path


def test_a_write_removes_the_temporary_file_a_dead_writer_left_for_the_same_target(tmp_path):
    orphan = _temporary(tmp_path, "run[1].pmm", DEAD_PID)
    with atomic_write(tmp_path / "run[1].pmm") as file:
        file.write(b"new")
    assert sorted(os.listdir(tmp_path)) == ["run[1].pmm"]
    assert not orphan.exists()


def test_a_write_keeps_the_temporary_file_of_a_live_writer_to_another_target(tmp_path):
    # The other target's name continues this one's with "<host>.<digits>", which once made the
    # sweep read its name as that of a dead writer to this target.
    other = f"a.pmm.{_atomic._host()}.{DEAD_PID}.pmm"
    live = _temporary(tmp_path, other, os.getpid())
    with atomic_write(tmp_path / "a.pmm") as file:
        file.write(b"new")
    assert live.read_bytes() == b"partial"


def test_a_write_keeps_the_temporary_files_of_targets_matching_its_name_as_a_pattern(tmp_path):
    live = _temporary(tmp_path, "a.pmm", os.getpid() * 10 + 7)  # a name "a*.pmm" would match
    with atomic_write(tmp_path / "a*.pmm") as file:
        file.write(b"new")
    assert live.exists()


def test_an_orphan_the_sweep_cannot_remove_does_not_stop_the_write(tmp_path, monkeypatch):
    orphan = _temporary(tmp_path, "m.pmm", DEAD_PID)
    unlink = os.unlink

    def refused(path, *args, **kwargs):
        if os.fspath(path) == os.fspath(orphan):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", refused)
    with atomic_write(tmp_path / "m.pmm") as file:
        file.write(b"new")
    assert (tmp_path / "m.pmm").read_bytes() == b"new"


def test_the_sweep_never_signals_processes_on_windows(tmp_path, monkeypatch):
    # On Windows os.kill(pid, 0) sends CTRL_C_EVENT (0) instead of checking that pid exists.
    def kill(pid, signal):
        pytest.fail(f"os.kill({pid}, {signal}) called on Windows")

    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(os, "kill", kill)
    _temporary(tmp_path, "m.pmm", DEAD_PID)
    with atomic_write(tmp_path / "m.pmm") as file:
        file.write(b"new")
    assert (tmp_path / "m.pmm").read_bytes() == b"new"


def test_a_file_named_like_a_temporary_file_of_an_impossible_pid_does_not_stop_the_write(
    tmp_path,
):
    odd = _temporary(tmp_path, "m.pmm", 10**30)  # os.kill would raise OverflowError
    with atomic_write(tmp_path / "m.pmm") as file:
        file.write(b"new")
    assert odd.exists() and (tmp_path / "m.pmm").read_bytes() == b"new"
