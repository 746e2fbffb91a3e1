"""Small user-defined modules, written as a user would (DESIGN.md section 2), for the tests."""

import dataclasses

import jax
import jax.numpy as jnp

import pmm


@dataclasses.dataclass(frozen=True)
class Scale(pmm.Module):
    """The user module of DESIGN.md: multiply by a trainable array, initialised to ``factor``."""

    factor: float = 2.0

    def init(self, rng, input_shape):
        return {"s": jnp.full(input_shape, self.factor)}, ()

    def apply(self, params, data, training, state, rng):
        return data * params["s"], state


class Dense(pmm.Module):
    """Tanh of a dense map on the last axis, without the decorator (fields alone make it frozen)."""

    features: int

    def __post_init__(self):
        super().__post_init__()
        if not isinstance(self.features, int) or self.features <= 0:
            raise ValueError(f"field 'features' must be a positive int, got {self.features!r}")

    def init(self, rng, input_shape):
        weight = jax.random.normal(rng, (input_shape[-1], self.features)) / input_shape[-1] ** 0.5
        return {"w": weight}, ()

    def apply(self, params, data, training, state, rng):
        return jnp.tanh(data @ params["w"]), state


class Counter(pmm.Module):
    """Stateful and parameterless: counts its calls in training mode, passes data through."""

    def init(self, rng, input_shape):
        return (), {"calls": jnp.zeros((), jnp.int32)}

    def apply(self, params, data, training, state, rng):
        return data, {"calls": state["calls"] + 1} if training else state


class Noise(pmm.Module):
    """Adds standard normal noise drawn from ``rng``; the identity when ``rng`` is None."""

    def init(self, rng, input_shape):
        return (), ()

    def apply(self, params, data, training, state, rng):
        if rng is None:
            return data, state
        return data + jax.random.normal(rng, data.shape, data.dtype), state


class WrongWidth(pmm.Module):
    """A buggy user module: its dot product needs 7 input features whatever it was given."""

    def init(self, rng, input_shape):
        return (), ()

    def apply(self, params, data, training, state, rng):
        return data @ jnp.ones((7, 2), data.dtype), state
