"""The shape-check switch: one JAX configuration state, per thread, and part of every jit key.

The state is thread-local: ``set_shape_checks`` and ``shape_checks()`` change it for the calling
thread only, and a thread that never sets it sees the process default (off, or on from import
with ``PMM_SHAPE_CHECKS=1``). Because JAX includes the state in the key of every jit cache, a
function jitted earlier is traced again the first time it is called with the other setting, and
both compiled versions are kept: switching back costs nothing and no cache is cleared.
"""

import contextlib
import os
from collections.abc import Iterator

# JAX offers no public way to add a state to its jit cache key; ``bool_state`` is the mechanism
# its own options (``jax_enable_x64``, ``jax_debug_nans``) use. ``include_in_trace_context``
# exists from JAX 0.8.1 on, hence pmm's minimum version (tests/test_checks_switch.py proves that
# the setting retraces and that both compilations are kept).
from jax._src import config as jax_config

ENVIRONMENT_VARIABLE = "PMM_SHAPE_CHECKS"


def enabled_by(value: str) -> bool:
    """Whether ``PMM_SHAPE_CHECKS=value`` turns the checks on; ``ValueError`` if unclear."""
    if value.lower() in ("", "0", "false"):
        return False
    if value.lower() in ("1", "true"):
        return True
    raise ValueError(
        f"{ENVIRONMENT_VARIABLE}={value!r} is not understood; set it to 1 to turn the shape "
        "checks on, or to 0 (or leave it unset) for off"
    )


#: On while module calls are shape-checked in this thread (``CHECKS.value``).
CHECKS = jax_config.bool_state(
    name="pmm_shape_checks_enabled",
    default=enabled_by(os.environ.get(ENVIRONMENT_VARIABLE, "")),
    help="Check the shapes of every pmm module call (see pmm.checks).",
    include_in_jit_key=True,
    include_in_trace_context=True,
)


def set_shape_checks(enabled: bool) -> None:
    """Turn the shape checks on or off for every module call this thread makes from now on.

    Other threads keep their own setting. A function jitted earlier is traced again the first
    time this thread calls it with the new setting; its compiled version for the old setting is
    kept for when the setting comes back.

    Examples
    --------
    >>> pmm.set_shape_checks(True)
    >>> pmm.shape_checks_enabled()
    True
    >>> pmm.set_shape_checks(False)
    """
    CHECKS.set_local(bool(enabled))


def shape_checks_enabled() -> bool:
    """Whether module calls in this thread are shape-checked now."""
    return CHECKS.value


@contextlib.contextmanager
def shape_checks(enabled: bool = True) -> Iterator[None]:
    """Within the block, this thread's shape checks are ``enabled``; afterwards as before.

    Examples
    --------
    >>> with pmm.shape_checks():
    ...     pmm.shape_checks_enabled()
    True
    """
    with CHECKS(bool(enabled)):
        yield
