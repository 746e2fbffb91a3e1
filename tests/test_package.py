"""The package as a whole: a quiet import, its version, documented and registered public names."""

import inspect
import pathlib
import subprocess
import sys

import pytest

import pmm


def _public_objects():
    for namespace in (pmm, pmm.nn, pmm.matrix, pmm.preprocessing, pmm.conformal):
        for name in namespace.__all__:
            value = getattr(namespace, name)
            if inspect.isclass(value) or inspect.isfunction(value):
                yield f"{namespace.__name__}.{name}", value


PUBLIC = dict(_public_objects())


def test_importing_and_using_pmm_prints_no_warnings():
    code = (
        "import jax, jax.numpy as jnp, pmm\n"
        "model = pmm.nn.MLP(hidden=(4,)) >> pmm.nn.Dropout(rate=0.1) >> pmm.AEPMM(matrix_size=3)\n"
        "params, state = model.init(jax.random.key(0), (2,))\n"
        "model(params, jnp.ones((5, 2)), True, state, jax.random.key(1))\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""


def test_the_package_has_a_version_and_ships_type_information():
    assert pmm.__version__.count(".") == 2
    assert (pathlib.Path(pmm.__file__).parent / "py.typed").exists()


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_every_public_name_has_a_docstring_with_an_example(name):
    doc = inspect.getdoc(PUBLIC[name]) or ""
    assert doc, f"{name} has no docstring"
    if inspect.isclass(PUBLIC[name]) and issubclass(PUBLIC[name], pmm.Module):
        assert "Examples" in doc or ">>>" in doc, f"{name} has no example"


@pytest.mark.parametrize(
    "name",
    sorted(
        name
        for name, value in PUBLIC.items()
        if inspect.isclass(value)
        and issubclass(value, pmm.Module)
        and not inspect.isabstract(value)
    ),
)
def test_every_built_in_module_is_registered_under_its_own_name(name):
    cls = PUBLIC[name]
    assert pmm.registered_class(pmm.registry_name(cls)) is cls
