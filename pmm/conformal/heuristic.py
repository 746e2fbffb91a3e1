r"""The uncertainty heuristic of the ``"normalized"`` score: how unsure the model is at ``x``.

For each output element :math:`f` (one entry of one output leaf), with :math:`\theta_p` the
:math:`P` params (every leaf of ``params``; scalers keep their statistics in the state, so they
do not count) and :math:`x_j` the :math:`F` entries of the real floating input leaves (other
leaves, e.g. integer class ids, are skipped), three sensitivities, each a change of the output
in its own units:

.. math::

    S_\theta(x) &= \Big(\tfrac1P \sum_p \big|\partial f/\partial\theta_p\big|^2
                   |\theta_p|^2\Big)^{1/2}
        && \text{each param moved by its own magnitude} \\
    S_x(x) &= \Big(\tfrac1F \sum_j \big|\partial f/\partial x_j\big|^2
               \mathrm{IQR}_j^2\Big)^{1/2}
        && \text{each input moved by its spread in the training data} \\
    S_d(x) &= \min_i \Big(\tfrac1F \sum_j \big((x_j - t_{ij}) / \mathrm{IQR}_j\big)^2\Big)^{1/2}
        && \text{distance to the nearest training input } t_i

(an input constant in the training data has :math:`\mathrm{IQR}_j = 0`: it adds nothing to
:math:`S_x` and is measured in its own units in :math:`S_d`). Each term is divided by its median
absolute deviation (MAD) over the training inputs, so that the three have comparable size
(:math:`S_d` of a training input is its distance to the nearest *other* one); where a MAD is 0
the mean of :math:`|S|` is used instead, and 1 for a term that is 0 everywhere. Then

.. math::  u(x) = S_\theta / \mathrm{MAD}_\theta + S_x / \mathrm{MAD}_x + S_d / \mathrm{MAD}_d
           + 10^{-6}

(the floor keeps scores finite where the model is flat). This follows the heuristic of the
upstream PMM library's ``ConformalizedModel`` (which sums squared sensitivities and a
nearest-neighbour Gower distance); root-mean-squares keep each term in the output's units.

Without training inputs only :math:`S_\theta` is used, divided by its MAD over the calibration
inputs: a constant factor, which the conformal quantile cancels. With them, all normalisers come
from the training inputs alone, so the score is a fixed function of ``(x, y)`` before the
calibration data is seen, as the finite-sample guarantee needs.

Examples
--------
>>> import jax, jax.numpy as jnp, pmm
>>> model = pmm.nn.Linear(features=1)
>>> params = {"weight": jnp.array([[2.0]]), "bias": jnp.array([1.0])}
>>> x = jnp.linspace(-1, 1, 21)[:, None]
>>> heuristic = fit_heuristic(model, params, (), x, training=True, batch_size=None)
>>> u = uncertainty(heuristic, model, params, (), jnp.array([[0.0], [1.0]]), None)
>>> bool(u[1, 0] > u[0, 0])
True
"""

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from pmm.module import Module

#: Added to the heuristic (after normalisation, where typical values are about 1).
FLOOR = 1e-6


@dataclasses.dataclass(frozen=True, eq=False)
class Heuristic:
    """What the ``"normalized"`` score needs at prediction time.

    ``reference``: the training inputs (samples first), or ``None``; ``input_scale``: the
    interquartile range of each floating input leaf over them (a tuple of per-sample-shaped
    arrays), or ``None``; ``normalisers``: ``(terms, K)``, each term's MAD per flattened output
    element (``K`` of them).
    """

    reference: Any
    input_scale: Any
    normalisers: Any


def fit_heuristic(
    model: Module, params: Any, state: Any, x: Any, training: bool, batch_size: int | None
) -> Heuristic:
    """The heuristic for ``model``; ``x`` is the training inputs when ``training``, else the
    calibration inputs (only the parameter sensitivity is then used)."""
    reference = scale = None
    if training and _floating(jax.tree.leaves(x)):
        reference = x
        floating = _floating([np.asarray(leaf) for leaf in jax.tree.leaves(x)])
        scale = tuple(
            jnp.asarray(np.subtract(*np.quantile(leaf, [0.75, 0.25], axis=0)), leaf.dtype)
            for leaf in floating
        )
    samples = jax.tree.leaves(x)[0].shape[0]
    self_index = jnp.arange(samples) if reference is not None else jnp.full(samples, -1)
    terms = np.asarray(
        _terms(model, batch_size or samples, params, state, x, reference, scale, self_index)
    )
    median = np.median(terms, axis=0)
    mad = np.median(np.abs(terms - median), axis=0)
    typical = np.mean(np.abs(terms), axis=0)
    normalisers = np.where(mad > 0, mad, np.where(typical > 0, typical, 1.0))
    return Heuristic(reference, scale, jnp.asarray(normalisers, terms.dtype))


def uncertainty(
    heuristic: Heuristic, model: Module, params: Any, state: Any, x: Any, batch_size: int | None
) -> jax.Array:
    """``u(x)`` per sample and flattened output element: ``(samples, K)``."""
    samples = jax.tree.leaves(x)[0].shape[0]
    terms = _terms(
        model, batch_size or samples, params, state, x, heuristic.reference,
        heuristic.input_scale, jnp.full(samples, -1),
    )  # fmt: skip
    return jnp.sum(terms / heuristic.normalisers, axis=1) + FLOOR


@functools.partial(jax.jit, static_argnums=(0, 1))
def _terms(
    model: Module,
    batch_size: int,
    params: Any,
    state: Any,
    x: Any,
    reference: Any,
    scale: Any,
    self_index: jax.Array,
) -> jax.Array:
    """``(samples, terms, K)``: the sensitivities of every sample, ``batch_size`` at a time.

    ``self_index[i]`` is sample ``i``'s own position in ``reference`` (left out of its distance),
    or -1.
    """
    references = None
    if reference is not None:
        references = jax.vmap(
            lambda sample: _flat_scaled(_floating(jax.tree.leaves(sample)), scale)
        )(reference)

    def one(sample: tuple[Any, jax.Array]) -> jax.Array:
        return _sample_terms(model, params, state, sample[0], references, scale, sample[1])

    return jax.lax.map(one, (x, self_index), batch_size=batch_size)


def _sample_terms(
    model: Module,
    params: Any,
    state: Any,
    sample: Any,
    references: jax.Array | None,
    scale: Any,
    self_index: jax.Array,
) -> jax.Array:
    """``(terms, K)`` for one sample (no batch axis): S_theta, and S_x and S_d with a reference."""
    leaves, structure = jax.tree.flatten(sample)
    is_float = [jnp.issubdtype(leaf.dtype, jnp.floating) for leaf in leaves]

    def flat_output(params: Any, floating: list[jax.Array]) -> jax.Array:
        given = iter(floating)
        data = structure.unflatten(
            [next(given) if f else leaf for leaf, f in zip(leaves, is_float, strict=True)]
        )
        output = model(params, jax.tree.map(lambda leaf: leaf[None], data), False, state, None)[0]
        return jnp.concatenate([jnp.ravel(leaf) for leaf in jax.tree.leaves(output)])

    floating = _floating(leaves)
    output, pullback = jax.vjp(flat_output, params, floating)
    param_grads, input_grads = jax.vmap(pullback)(jnp.eye(output.size, dtype=output.dtype))
    terms = [_weighted_rms(param_grads, params, output.size)]
    if references is not None:
        terms.append(_weighted_rms(input_grads, scale, output.size))
        distances = jnp.mean((references - _flat_scaled(floating, scale)) ** 2, axis=1)
        distances = jnp.where(jnp.arange(distances.size) == self_index, jnp.inf, distances)
        terms.append(jnp.full(output.size, jnp.sqrt(jnp.min(distances)), output.dtype))
    return jnp.stack(terms)


def _weighted_rms(grads: Any, weights: Any, outputs: int) -> jax.Array:
    """``sqrt(mean_p |grad_p|^2 |weight_p|^2)`` per output row: ``grads`` leaves are
    ``(outputs, *w.shape)`` for each leaf ``w`` of ``weights``; zeros if there are none."""
    total = sum(jnp.size(w) for w in jax.tree.leaves(weights))
    if not total:
        return jnp.zeros(outputs)
    squares = sum(
        jnp.sum(jnp.abs(g.reshape(outputs, -1)) ** 2 * jnp.abs(jnp.ravel(w)) ** 2, axis=1)
        for g, w in zip(jax.tree.leaves(grads), jax.tree.leaves(weights), strict=True)
    )
    return jnp.sqrt(squares / total)


def _flat_scaled(floating: list[jax.Array], scale: Any) -> jax.Array:
    """One sample's floating entries as one vector, each divided by its IQR (1 where that is 0)."""
    return jnp.concatenate(
        [jnp.ravel(leaf / jnp.where(s > 0, s, 1)) for leaf, s in zip(floating, scale, strict=True)]
    )


def _floating(leaves: list[Any]) -> list[Any]:
    """The real floating leaves of ``leaves``, in order: the inputs the heuristic differentiates."""
    return [leaf for leaf in leaves if jnp.issubdtype(leaf.dtype, jnp.floating)]
