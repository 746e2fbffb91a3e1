"""``GRUCell``: one step of a gated recurrent unit (Cho et al., 2014), the cuDNN/PyTorch variant.

Examples
--------
>>> cell = GRUCell(features=4)
>>> params, state = cell.init(jax.random.key(0), {"x": (3,), "h": (4,)})
>>> cell(params, {"x": jnp.ones((2, 3)), "h": jnp.zeros((2, 4))})[0]["h"].shape
(2, 4)
"""

from typing import ClassVar

import jax
import jax.numpy as jnp

from pmm.nn.recurrent_cell import GatedCell
from pmm.typing import DictParams


class GRUCell(GatedCell):
    """One GRU step: ``{"x": (batch, in), "h": (batch, features)}`` to ``{"h": h'}``.

    With ``*`` the elementwise product and ``sigmoid(a) = 1 / (1 + exp(-a))``::

        r  = sigmoid(x W_ir + b_ir + h W_hr + b_hr)       reset gate
        z  = sigmoid(x W_iz + b_iz + h W_hz + b_hz)       update gate
        n  = tanh(x W_in + b_in + r * (h W_hn + b_hn))    candidate
        h' = (1 - z) * n + z * h

    This is the variant of cuDNN, PyTorch (``nn.GRU``) and Flax (``GRUCell``): the reset gate
    multiplies the hidden matmul *after* it, ``r * (h W_hn + b_hn)``, where the original paper
    has ``(r * h) W_hn``; it lets all three hidden matmuls run as one. ``z`` near one keeps the
    old state.

    Parameters: ``"input_weight": (in, 3 features)`` holding ``[W_ir | W_iz | W_in]`` in its
    column blocks, ``"hidden_weight": (features, 3 features)`` holding ``[W_hr | W_hz | W_hn]``,
    and ``"input_bias"``, ``"hidden_bias"``: ``(3 features,)`` each, zeros (the layout of
    PyTorch's ``weight_ih``/``weight_hh`` transposed, so its weights load by transposing).
    Weights are drawn as ``GatedCell`` says (``kernel_init`` default ``"lecun_normal"``,
    ``recurrent_init`` default ``"orthogonal"``). Run it along sequences with
    ``pmm.nn.Scan(GRUCell(features))``.

    Examples
    --------
    >>> sorted(GRUCell(features=2).init(jax.random.key(0), {"x": (5,), "h": (2,)})[0])
    ['hidden_bias', 'hidden_weight', 'input_bias', 'input_weight']
    """

    gates: ClassVar[int] = 3

    def biases(self) -> DictParams:
        zeros = jnp.zeros((3 * self.features,), self.dtype)
        return {"input_bias": zeros, "hidden_bias": zeros}

    def step(self, params: DictParams, data: dict[str, jax.Array]) -> dict[str, jax.Array]:
        x, h = data["x"], data["h"]
        from_input = x @ params["input_weight"] + params["input_bias"]
        from_hidden = h @ params["hidden_weight"] + params["hidden_bias"]
        input_r, input_z, input_n = jnp.split(from_input, 3, axis=-1)
        hidden_r, hidden_z, hidden_n = jnp.split(from_hidden, 3, axis=-1)
        reset = jax.nn.sigmoid(input_r + hidden_r)
        update = jax.nn.sigmoid(input_z + hidden_z)
        candidate = jnp.tanh(input_n + reset * hidden_n)
        return {"h": (1 - update) * candidate + update * h}
