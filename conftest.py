"""Names every docstring example may use without importing them (``pytest --doctest-modules``)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pmm


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace: dict) -> None:
    doctest_namespace.update(jax=jax, jnp=jnp, np=np, pmm=pmm)
