"""Shared fixtures: PRNG keys and a float64 switch."""

import jax
import pytest


@pytest.fixture
def key() -> jax.Array:
    return jax.random.key(0)


@pytest.fixture
def x64():
    """Run the test with float64 enabled (restored afterwards)."""
    with jax.enable_x64(True):
        yield
