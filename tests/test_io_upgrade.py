"""Forward compatibility: old format versions and old class versions still load (DESIGN.md 6)."""

import json
import zipfile

import jax.numpy as jnp
import numpy as np
import pytest

import pmm
from tests.fixtures import make_old_format


class Gain(pmm.Module, register_as="fixtures.Gain"):
    """Multiply by a trainable gain. Version 2 renamed the hyperparameter ``scale`` to ``gain``."""

    version = 2
    gain: float = 1.0

    @classmethod
    def upgrade(cls, hyperparams, version):
        return {"gain": hyperparams["scale"]} if version == 1 else hyperparams

    def init(self, rng, input_shape):
        return {"g": jnp.full(input_shape, self.gain)}, ()

    def apply(self, params, data, training, state, rng):
        return data * params["g"], state


def test_the_fixture_matches_the_script_that_regenerates_it():
    assert make_old_format.FIXTURE.read_bytes() == make_old_format.build()


def test_a_format_version_1_file_loads_with_upgraded_class_hyperparameters():
    module, params, state = pmm.load(make_old_format.FIXTURE)
    assert module == pmm.Sequential(Gain(gain=3.0), pmm.Residual(Gain(gain=0.5)))
    assert isinstance(params, tuple) and state == ((), ())
    np.testing.assert_array_equal(params[0]["g"], make_old_format.FIRST_GAIN)
    np.testing.assert_array_equal(params[1]["g"], make_old_format.SECOND_GAIN)
    output, _ = module(params, jnp.ones((1, 2)), False, state, None)
    np.testing.assert_array_equal(output, [[1.5 * 1.25, -2.0 * 5.0]])


def test_a_loaded_old_file_saves_in_the_current_format(tmp_path):
    pmm.save(tmp_path / "new.pmm", *pmm.load(make_old_format.FIXTURE))
    with np.load(tmp_path / "new.pmm", allow_pickle=False) as archive:
        header = json.loads(archive["header"].tobytes())
    assert header["format_version"] == pmm.io.FORMAT_VERSION
    assert header["module"]["hyperparams"]["layers"][0]["module"]["version"] == 2


def _with_header(path, **changes):
    """Copy the fixture to ``path`` with top-level header fields replaced."""
    header = {**make_old_format.HEADER, **changes}
    with zipfile.ZipFile(make_old_format.FIXTURE) as old, zipfile.ZipFile(path, "w") as new:
        for name in old.namelist():
            if name == "header.npy":
                with new.open(name, "w") as member:
                    data = np.frombuffer(json.dumps(header).encode(), np.uint8)
                    np.lib.format.write_array(member, data)
            else:
                new.writestr(name, old.read(name))
    return path


@pytest.mark.parametrize("version", [pmm.io.FORMAT_VERSION + 1, 0, "1", None])
def test_an_unknown_format_version_is_a_load_error(tmp_path, version):
    path = _with_header(tmp_path / "future.pmm", format_version=version)
    with pytest.raises(pmm.LoadError, match=r"future\.pmm.*format version"):
        pmm.load(path)


def test_a_class_version_newer_than_the_installed_class_is_a_load_error(tmp_path):
    module = json.loads(json.dumps(make_old_format.HEADER["module"]))
    module["hyperparams"]["layers"][0]["module"]["version"] = 3
    path = _with_header(tmp_path / "newer.pmm", module=module)
    with pytest.raises(pmm.LoadError, match=r"layers\[0\] is fixtures.Gain version 3, but .* 2"):
        pmm.load(path)
