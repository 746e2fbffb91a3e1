"""Every way a file can fail to load raises pmm.LoadError naming the file and the reason."""

import io
import json
import os
import zipfile

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pmm
from pmm.module import _REGISTRY
from tests.modules import Scale
from tests.reliability import craft


@pytest.fixture
def saved(tmp_path):
    """A good file written with ``input_shape=(3,)``."""
    return craft.save_sample(tmp_path / "model.pmm")


def _load_error(path, reason):
    return craft.refused(pmm.load, path, reason)


def test_a_missing_file_is_a_load_error(tmp_path):
    _load_error(tmp_path / "absent.pmm", "no such file")


def test_a_directory_is_a_load_error(tmp_path):
    _load_error(tmp_path, "directory")


@pytest.mark.parametrize("content", [b"", b"hello, not a zip", b"PK\x03\x04garbage"])
def test_a_file_that_is_not_a_zip_archive_is_a_load_error(tmp_path, content):
    path = tmp_path / "text.pmm"
    path.write_bytes(content)
    _load_error(path, "not a zip archive")


@pytest.mark.parametrize("fraction", [0.2, 0.5, 0.9, 0.99])
def test_a_truncated_file_is_a_load_error(saved, fraction):
    data = saved.read_bytes()
    saved.write_bytes(data[: int(len(data) * fraction)])
    _load_error(saved, "not a zip archive|truncated|corrupted")


def test_a_corrupted_array_is_a_load_error(saved):
    stored = craft.members(saved)["params/1.npy"]
    data = saved.read_bytes()
    end = data.index(stored) + len(stored)
    saved.write_bytes(data[: end - 4] + b"\xff\xff\xff\xff" + data[end:])
    _load_error(saved, r"params/1\.npy is corrupted")


def test_a_zip_archive_without_a_pmm_header_is_a_load_error(tmp_path):
    path = tmp_path / "arrays.npz"
    np.savez(path, w=np.zeros(3))
    _load_error(path, "no header.npy member")


def test_a_header_that_is_not_json_is_a_load_error(saved):
    members = craft.members(saved)
    members["header.npy"] = craft.npy(np.frombuffer(b"{not json", np.uint8))
    _load_error(craft.write_members(saved, members), "not UTF-8 JSON")


def test_a_json_header_of_another_format_is_a_load_error(saved):
    _load_error(craft.with_header(saved, lambda h: h.update(format="other")), "not a pmm header")


def test_a_header_without_the_module_tree_is_a_load_error(saved):
    _load_error(
        craft.with_header(saved, lambda h: h.pop("module")), r"malformed \(missing \['module'\]"
    )


def test_a_header_nested_too_deeply_is_a_load_error(saved):
    members = craft.members(saved)
    text = json.dumps(craft.header_json(members)).replace(
        '"params": ', '"params": ' + '{"tuple": [' * 50_000
    )
    text = text.replace(', "state"', "]}" * 50_000 + ', "state"')
    members["header.npy"] = craft.npy(np.frombuffer(text.encode(), np.uint8))
    _load_error(craft.write_members(saved, members), "nests too deeply")


def test_an_unknown_format_version_is_a_load_error(saved):
    _load_error(
        craft.with_header(saved, lambda h: h.update(format_version=99)), "format version 99"
    )


def test_an_unknown_module_class_is_a_load_error(saved):
    def rename(header):
        header["module"]["hyperparams"]["layers"][1]["module"]["class"] = "lab.Unknown"

    _load_error(
        craft.with_header(saved, rename), r"unknown module class 'lab.Unknown'.*layers\[1\]"
    )


def test_hyperparameters_the_class_rejects_are_a_load_error(saved):
    def break_features(header):
        header["module"]["hyperparams"]["layers"][1]["module"]["hyperparams"]["features"] = -1

    _load_error(craft.with_header(saved, break_features), "Dense at .* rejects .*'features'")


class _CreatesFile:
    """Unpickling this creates the directory ``path`` -- which must never happen."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.mkdir, (str(self.path),)


@pytest.mark.parametrize("member", ["header.npy", "params/0.npy"])
def test_a_pickle_payload_is_refused_and_never_executed(saved, tmp_path, member):
    payload = craft.npy(
        np.array([_CreatesFile(tmp_path / "pwned")], dtype=object), allow_pickle=True
    )
    np.load(io.BytesIO(payload), allow_pickle=True)  # the payload is live ...
    assert (tmp_path / "pwned").exists()
    (tmp_path / "pwned").rmdir()
    members = craft.members(saved)
    members[member] = payload
    _load_error(craft.write_members(saved, members), "Python objects")
    assert not (tmp_path / "pwned").exists()  # ... yet loading never ran it


def test_a_missing_array_is_a_load_error(saved):
    members = craft.members(saved)
    del members["params/1.npy"]
    _load_error(craft.write_members(saved, members), r"missing: \['params/1'\]")


def test_an_extra_array_is_a_load_error(saved):
    members = craft.members(saved)
    members["params/9.npy"] = craft.npy(np.zeros(3, np.float32))
    _load_error(craft.write_members(saved, members), r"does not record: \['params/9'\]")


def test_a_member_that_is_not_an_array_is_a_load_error(saved):
    members = {**craft.members(saved), "notes.txt": b"hello"}
    _load_error(craft.write_members(saved, members), "not .npy arrays")


@pytest.mark.parametrize(
    ("array", "found"),
    [
        (np.zeros((2, 3), np.float32), r"<f4\[2, 3\]"),
        (np.zeros((3, 2), np.float64), r"<f8\[3, 2\]"),
        (np.zeros((3, 2), ">f4"), r">f4\[3, 2\]"),  # pmm files are little-endian
    ],
)
def test_an_array_differing_from_the_header_record_is_a_load_error(saved, array, found):
    craft.put_array(saved, "params/1", array)
    _load_error(saved, rf"params/1\.npy holds {found} but the header records")


def test_an_array_differing_from_what_init_builds_is_a_load_error(saved):
    craft.put_array(saved, "params/0", np.zeros(4, np.float32), recorded=True)
    _load_error(saved, r"params\[0\]\['s'\] is float32\[4\] in the file but Sequential.init")


def test_a_float64_file_needs_x64_enabled_to_load(tmp_path):
    path = tmp_path / "wide.pmm"
    with jax.enable_x64(True):
        pmm.save(path, Scale(), {"s": jnp.ones(3, jnp.float64)})
        assert pmm.load(path)[1]["s"].dtype == jnp.float64
    _load_error(path, r"params\['s'\] is float64, which needs 64-bit JAX.*jax_enable_x64")


def test_load_error_messages_show_shapes_never_array_contents(saved):
    craft.put_array(saved, "params/1", np.full((300, 300), 0.123456, np.float32))
    error = _load_error(saved, "holds")
    assert "0.123" not in str(error) and len(str(error)) < 300


def test_an_interrupted_save_keeps_the_previous_file_and_leaves_no_temporary(saved, monkeypatch):
    before = saved.read_bytes()
    write_array, calls = np.lib.format.write_array, []

    def interrupted(*args, **kwargs):
        calls.append(None)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return write_array(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", interrupted)
    with pytest.raises(KeyboardInterrupt):
        pmm.save(saved, Scale(5.0), {"s": jnp.ones(3)})
    assert saved.read_bytes() == before
    assert os.listdir(saved.parent) == [saved.name]


def test_a_class_defined_inside_a_function_and_not_defined_now_is_a_helpful_load_error(
    tmp_path, monkeypatch
):
    class Local(pmm.Module):
        def init(self, rng, input_shape):
            return (), ()

        def apply(self, params, data, training, state, rng):
            return data, state

    pmm.save(tmp_path / "m.pmm", Local(), ())
    assert pmm.load(tmp_path / "m.pmm")[0] == Local()
    # A new process, before the function that defines Local has run:
    monkeypatch.delitem(_REGISTRY, pmm.registry_name(Local))
    _load_error(tmp_path / "m.pmm", r"<locals>.Local' .*defined inside a function.*register_as")


def test_a_compressed_member_is_refused_so_no_decompression_bomb_is_read(saved):
    members = craft.members(saved)
    with zipfile.ZipFile(saved, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    _load_error(saved, r"header\.npy is compressed; pmm files store their arrays uncompressed")


def test_a_member_too_large_to_allocate_is_a_load_error(saved, monkeypatch):
    def refuse(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr("pmm.io.npy.np.empty", refuse)
    _load_error(saved, "declares more data than this machine can allocate")
