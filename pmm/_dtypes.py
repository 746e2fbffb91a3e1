"""Parameter dtypes for the layers: canonical names, the float64 switch, and random draws.

Layers store their ``dtype`` hyperparameter as a canonical string (``"float32"``, ``"float64"``,
``"complex64"``, ``"complex128"``, or the half-precision ``"bfloat16"`` and ``"float16"``), check
at ``init`` that JAX can hold it, and draw real or complex parameters through ``normal`` and
``uniform``.

Examples
--------
>>> canonical_dtype("f4", "dtype", "Linear")
'float32'
>>> normal(jax.random.key(0), (2, 3), "complex64", variance=1.0).dtype
dtype('complex64')
"""

from typing import Any

import jax
import jax.numpy as jnp

#: The parameter dtypes every layer accepts.
DTYPES = ("float32", "float64", "complex64", "complex128", "bfloat16", "float16")

#: The half-precision dtypes; random draws for them are made in float32 and rounded.
HALF_DTYPES = ("bfloat16", "float16")


def canonical_dtype(value: Any, field: str, owner: str) -> str:
    """The canonical name of ``value`` (anything ``jnp.dtype`` accepts) as a parameter dtype.

    Raises ``ValueError`` naming ``field`` of ``owner`` when ``value`` is not a dtype or not one
    of ``DTYPES``.
    """
    try:
        name = jnp.dtype(value).name
    except TypeError:
        name = None
    if name not in DTYPES:
        raise ValueError(
            f"field {field!r} of {owner} is {value!r}, which is not a parameter dtype; "
            f"give one of {list(DTYPES)}"
        )
    return name


def check_x64(dtype: str, owner: str) -> None:
    """Raise ``ValueError`` when ``dtype`` needs 64-bit JAX and ``jax_enable_x64`` is off."""
    if dtype in ("float64", "complex128") and not jax.config.read("jax_enable_x64"):
        raise ValueError(
            f"{owner} has dtype {dtype!r}, which needs 64-bit JAX; enable it with "
            "jax.config.update('jax_enable_x64', True) at start-up (or the block "
            "`with jax.enable_x64(True):`), or choose a 32-bit dtype"
        )


def real_dtype(dtype: str) -> str:
    """The real dtype of the same precision: ``"complex64"`` gives ``"float32"``."""
    return {"complex64": "float32", "complex128": "float64"}.get(dtype, dtype)


#: Names of the dtypes data has come in: a dict lookup instead of ``np.dtype.name`` (slow).
_NAMES: dict[Any, str] = {}


def compute_dtype(data: Any, dtype: str) -> Any:
    """The dtype a layer of parameter ``dtype`` computes in for ``data`` (an array or a dtype).

    Half-precision layers compute in their own dtype, so real data of any precision is cast to
    it; every other layer follows JAX's type promotion of the data and the parameters (float32
    data in a complex64 layer computes in complex64, float64 data in a float32 layer in float64).

    Examples
    --------
    >>> compute_dtype(jnp.float32, "bfloat16"), compute_dtype(jnp.float32, "complex64")
    (dtype(bfloat16), dtype('complex64'))
    """
    data_dtype = getattr(data, "dtype", None)
    if _NAMES.get(data_dtype) == dtype:
        return data_dtype  # the common case, without jnp.result_type's cost on every eager call
    data_dtype = jnp.result_type(data)
    _NAMES[data_dtype] = data_dtype.name
    if dtype in HALF_DTYPES and not jnp.issubdtype(data_dtype, jnp.complexfloating):
        return jnp.dtype(dtype)
    return jnp.result_type(data_dtype, dtype)


def as_dtype(array: Any, dtype: Any) -> Any:
    """``array.astype(dtype)``, or ``array`` itself when it already has that dtype: a cast that
    changes nothing costs an eager call a JAX dispatch per array, which layers pay per call.

    Examples
    --------
    >>> x = jnp.ones(3)
    >>> as_dtype(x, jnp.float32) is x, as_dtype(x, jnp.bfloat16).dtype
    (True, dtype(bfloat16))
    """
    return array if array.dtype == dtype else array.astype(dtype)


def statistics_dtype(dtype: str) -> str:
    """The dtype a layer of parameter ``dtype`` keeps and computes statistics in.

    ``"float32"`` for the half-precision dtypes: a mean over many half-precision numbers, or a
    running average moving by 1% a step, loses the low bits that matter (bfloat16 keeps 8
    significant bits). Any other dtype is its own.
    """
    return "float32" if dtype in HALF_DTYPES else dtype


def normal(key: Any, shape: tuple[int, ...], dtype: str, variance: float) -> jax.Array:
    """Normal draws of ``shape`` and ``dtype`` with ``E|x|^2 = variance``.

    Complex dtypes draw the real and the imaginary part independently, each with variance
    ``variance / 2``.
    """
    return _draw(jax.random.normal, key, shape, dtype, float(variance))


def uniform(key: Any, shape: tuple[int, ...], dtype: str, variance: float) -> jax.Array:
    """Draws uniform on ``[-a, a]`` with ``a = sqrt(3 variance)``, so that ``E|x|^2 = variance``.

    Complex dtypes draw the real and the imaginary part independently, each with variance
    ``variance / 2``.
    """

    def unit(key: Any, shape: tuple[int, ...], dtype: str) -> jax.Array:
        return jax.random.uniform(key, shape, dtype, -(3.0**0.5), 3.0**0.5)

    return _draw(unit, key, shape, dtype, float(variance))


def _draw(unit: Any, key: Any, shape: tuple[int, ...], dtype: str, variance: float) -> jax.Array:
    """``unit`` (draws of variance one) scaled to ``variance``, real or complex, in ``dtype``."""
    real = real_dtype(dtype)
    if real in HALF_DTYPES:
        return (unit(key, shape, "float32") * variance**0.5).astype(dtype)
    if real == dtype:
        return unit(key, shape, real) * variance**0.5
    parts = unit(key, (2, *shape), real) * (variance / 2) ** 0.5
    return jax.lax.complex(parts[0], parts[1])


def canonical_real_dtype(value: Any, field: str, owner: str) -> str:
    """``canonical_dtype`` for layers whose maths needs real numbers (gates, softmax, signs).

    Raises ``ValueError`` naming ``field`` of ``owner`` for complex dtypes too.
    """
    name = canonical_dtype(value, field, owner)
    if name != real_dtype(name):
        raise ValueError(
            f"field {field!r} of {owner} is {value!r}, but {owner} computes with real numbers "
            f"only; give one of {[d for d in DTYPES if d == real_dtype(d)]}"
        )
    return name
