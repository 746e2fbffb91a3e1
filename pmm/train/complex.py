"""Complex parameters under gradient descent: conjugate ``jax.grad``'s output before the optimizer.

For a real loss ``L`` of a complex parameter ``z = a + ib``, ``jax.grad`` returns
``dL/da - i dL/db``: the *conjugate* of the steepest-ascent direction ``dL/da + i dL/db``. An
optax optimizer steps against whatever it is given, so fed ``jax.grad``'s output directly it
moves every imaginary part uphill. Conjugating the complex leaves first gives the optimizer
``(dL/da, dL/db)`` as real and imaginary parts, so that it treats each complex parameter as two
real ones (``z`` then trains exactly as the pair ``(a, b)`` would). Real leaves pass unchanged.

``pmm.fit`` and ``pmm.make_train_step`` do this already; a hand-written ``jax.grad`` + optax loop
chains ``pmm.conjugate_complex_grads()`` before its optimizer.
"""

from typing import Any

import jax
import jax.numpy as jnp
import optax


def descent_direction(grads: Any) -> Any:
    """``grads`` with every complex leaf conjugated (real leaves and ``None`` unchanged).

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> grads = jax.grad(lambda z: jnp.abs(z) ** 2)(jnp.complex64(1 + 2j))  # 2 * conj(z)
    >>> descent_direction({"z": grads, "r": jnp.float32(1.0)})["z"]  # steepest ascent, 2 * z
    Array(2.+4.j, dtype=complex64)
    """
    return jax.tree.map(lambda grad: jnp.conj(grad) if jnp.iscomplexobj(grad) else grad, grads)


def conjugate_complex_grads() -> optax.GradientTransformation:
    """An optax transformation that conjugates complex gradient leaves (``descent_direction``).

    Chain it *before* the optimizer in a hand-written loop over complex params; it keeps no
    state. Do not add it to the optimizer given to ``pmm.fit`` or ``pmm.make_train_step``: they
    conjugate already, and conjugating twice undoes the fix.

    Returns
    -------
    optax.GradientTransformation
        Stateless; ``update(grads, state, params=None)`` returns the conjugated grads.

    Examples
    --------
    >>> import jax, jax.numpy as jnp, optax, pmm
    >>> optimizer = optax.chain(pmm.conjugate_complex_grads(), optax.sgd(0.25))
    >>> z = jnp.complex64(1 + 2j)  # minimise |z|^2: each step halves z
    >>> opt_state = optimizer.init(z)
    >>> updates, opt_state = optimizer.update(jax.grad(lambda z: jnp.abs(z) ** 2)(z), opt_state)
    >>> optax.apply_updates(z, updates)
    Array(0.5+1.j, dtype=complex64)
    """
    return optax.stateless(lambda updates, params=None: descent_direction(updates))
