"""The documentation site as a reader meets it: every public name in the API reference, with a
docstring. Runs on the site ``nox -s tests`` (or ``nox -s docs``) builds before the suite."""

import importlib
import pathlib

import pytest

SITE = pathlib.Path(__file__).parents[1] / "docs" / "_build" / "html"
#: The packages whose ``__all__`` is the public API.
PACKAGES = ["pmm", "pmm.nn", "pmm.matrix", "pmm.preprocessing", "pmm.conformal"]

inventory_module = pytest.importorskip("sphinx.util.inventory")
if not (SITE / "objects.inv").exists():
    pytest.skip("the site is not built: run nox -s docs", allow_module_level=True)


def documented() -> set[str]:
    """Every object the site documents, by the name it documents it under."""
    with open(SITE / "objects.inv", "rb") as file:
        inventory = inventory_module.InventoryFile.load(file, "", lambda base, uri: uri)
    data = getattr(inventory, "data", inventory)
    return {name for kind, entries in data.items() if kind.startswith("py:") for name in entries}


def public_names() -> list[tuple[str, str]]:
    return [
        (package, name)
        for package in PACKAGES
        for name in importlib.import_module(package).__all__
        if not isinstance(getattr(importlib.import_module(package), name), type(pytest))
    ]


@pytest.mark.parametrize(("package", "name"), public_names())
def test_every_public_name_is_in_the_api_reference(package, name):
    value = getattr(importlib.import_module(package), name)
    names = {f"{package}.{name}"}
    if hasattr(value, "__qualname__") and hasattr(value, "__module__"):
        names.add(f"{value.__module__}.{value.__qualname__}")
        names |= {f"{other}.{value.__qualname__}" for other in PACKAGES}
    assert names & documented(), f"{package}.{name} is not in the API reference"


@pytest.mark.parametrize(("package", "name"), public_names())
def test_every_public_name_has_a_docstring(package, name):
    value = getattr(importlib.import_module(package), name)
    if isinstance(value, str | int | float | tuple | dict):
        return  # constants are documented by their `#:` comments
    assert (getattr(value, "__doc__", None) or "").strip(), f"{package}.{name} has no docstring"
