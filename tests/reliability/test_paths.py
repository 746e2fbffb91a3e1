"""Which paths pmm saves to and loads from: argument types, symlinks, special files, permissions.

A path is a ``str``, ``bytes`` or ``os.PathLike``; anything else (file objects included) is a
``TypeError`` naming the argument. Loading reads only regular files (a symlink to one is fine);
saving writes through a symlink and never replaces a directory, device or FIFO. A saved file gets
the permissions ``open()`` would give it.
"""

import io
import os
import pathlib
import stat

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pmm
from pmm.train.checkpoint import load_checkpoint, save_checkpoint
from tests.modules import Scale

MODEL, PARAMS = Scale(3.0), {"s": jnp.arange(3.0)}
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes and FIFOs")


class Located(os.PathLike):
    """A user's own path type."""

    def __init__(self, path):
        self.path = path

    def __fspath__(self):
        return self.path


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "model.pmm"
    pmm.save(path, MODEL, PARAMS)
    return path


def _same(loaded):
    module, params, state = loaded
    assert module == MODEL and state == ()
    np.testing.assert_array_equal(params["s"], PARAMS["s"])


@pytest.mark.parametrize("kind", [str, os.fsencode, pathlib.Path, lambda p: Located(str(p))])
def test_load_and_save_take_str_bytes_and_path_like_paths(tmp_path, kind):
    path = kind(tmp_path / "model.pmm")
    pmm.save(path, MODEL, PARAMS)
    _same(pmm.load(path))


NOT_PATHS = [None, 0, 1.5, ["model.pmm"], io.BytesIO(b"PK"), Located(3)]


@pytest.mark.parametrize("path", NOT_PATHS, ids=lambda p: type(p).__name__)
def test_load_refuses_what_is_not_a_path_with_a_type_error_naming_the_argument(path):
    with pytest.raises(
        TypeError, match=r"^path (must be a str, bytes or os\.PathLike|.* not a usable)"
    ):
        pmm.load(path)


@pytest.mark.parametrize("path", NOT_PATHS, ids=lambda p: type(p).__name__)
def test_save_refuses_what_is_not_a_path_with_a_type_error_naming_the_argument(
    tmp_path, monkeypatch, path
):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        TypeError, match=r"^path (must be a str, bytes or os\.PathLike|.* not a usable)"
    ):
        pmm.save(path, MODEL, PARAMS)
    assert list(tmp_path.iterdir()) == []


def test_an_open_file_object_is_refused_and_the_message_says_to_give_a_path(saved):
    with open(saved, "rb") as file, pytest.raises(TypeError, match="file objects are not accepted"):
        pmm.load(file)


def test_a_path_holding_a_nul_character_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="NUL"):
        pmm.load(f"{tmp_path}/a\0b.pmm")


def test_checkpoints_name_their_path_argument_checkpoint(tmp_path):
    with pytest.raises(TypeError, match=r"^checkpoint must be a str"):
        load_checkpoint(None, (), {})
    with pytest.raises(TypeError, match=r"^checkpoint must be a str"):
        save_checkpoint(io.BytesIO(), (), None, {}, {})


def test_a_symlink_to_a_model_file_loads(saved, tmp_path):
    link = tmp_path / "link.pmm"
    link.symlink_to(saved)
    _same(pmm.load(link))


def test_a_dangling_symlink_is_a_load_error(tmp_path):
    link = tmp_path / "link.pmm"
    link.symlink_to(tmp_path / "absent.pmm")
    with pytest.raises(pmm.LoadError, match=r"link\.pmm: no such file"):
        pmm.load(link)


def test_saving_to_a_symlink_replaces_its_target_from_the_target_directory(
    saved, tmp_path, monkeypatch
):
    links = tmp_path / "links"
    links.mkdir()
    link = links / "current.pmm"
    link.symlink_to(saved)
    replace, moves = os.replace, []

    def recorded(source, destination):
        moves.append((pathlib.Path(source).parent, pathlib.Path(destination)))
        return replace(source, destination)

    monkeypatch.setattr(os, "replace", recorded)
    pmm.save(link, Scale(5.0), PARAMS)
    assert link.is_symlink() and link.resolve() == saved
    assert moves == [(saved.parent, saved)]
    assert pmm.load(saved)[0] == Scale(5.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["links", "model.pmm"]
    assert os.listdir(links) == ["current.pmm"]


def test_saving_to_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.pmm"
    link.symlink_to(tmp_path / "target.pmm")
    pmm.save(link, MODEL, PARAMS)
    assert link.is_symlink()
    _same(pmm.load(tmp_path / "target.pmm"))


def test_saving_to_a_directory_is_refused_before_writing(tmp_path):
    with pytest.raises(IsADirectoryError, match="directory"):
        pmm.save(tmp_path, MODEL, PARAMS)
    assert list(tmp_path.iterdir()) == []


@posix_only
def test_saving_to_a_fifo_is_refused_and_leaves_it_in_place(tmp_path):
    fifo = tmp_path / "fifo.pmm"
    os.mkfifo(fifo)
    with pytest.raises(FileExistsError, match="FIFO"):
        pmm.save(fifo, MODEL, PARAMS)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert os.listdir(tmp_path) == ["fifo.pmm"]


@pytest.fixture
def umask():
    """Set the process umask for the test (restored afterwards)."""
    previous = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(previous)


@posix_only
@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077])
def test_a_new_model_file_gets_the_permissions_open_would_give(tmp_path, umask, mask):
    umask(mask)
    pmm.save(tmp_path / "model.pmm", MODEL, PARAMS)
    with open(tmp_path / "by_open", "w"):
        pass
    assert stat.S_IMODE(os.stat(tmp_path / "model.pmm").st_mode) == 0o666 & ~mask
    assert stat.S_IMODE(os.stat(tmp_path / "model.pmm").st_mode) == stat.S_IMODE(
        os.stat(tmp_path / "by_open").st_mode
    )


@posix_only
def test_a_new_checkpoint_gets_the_permissions_open_would_give(tmp_path, umask):
    umask(0o027)
    save_checkpoint(tmp_path / "run.ckpt", (jnp.ones(2),), jax.random.key(0), {}, {})
    assert stat.S_IMODE(os.stat(tmp_path / "run.ckpt").st_mode) == 0o640


@posix_only
def test_a_replaced_file_keeps_its_permissions_as_open_would(saved, umask):
    os.chmod(saved, 0o600)
    umask(0o000)
    pmm.save(saved, Scale(5.0), PARAMS)
    assert stat.S_IMODE(os.stat(saved).st_mode) == 0o600
