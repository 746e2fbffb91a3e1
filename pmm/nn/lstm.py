"""``LSTMCell``: one step of a long short-term memory (Hochreiter & Schmidhuber, 1997, with the
forget gate of Gers et al., 2000).

Examples
--------
>>> cell = LSTMCell(features=4)
>>> params, state = cell.init(jax.random.key(0), {"x": (3,), "h": (4,), "c": (4,)})
>>> zeros = jnp.zeros((2, 4))
>>> sorted(cell(params, {"x": jnp.ones((2, 3)), "h": zeros, "c": zeros})[0])
['c', 'h']
"""

from typing import ClassVar

import jax
import jax.numpy as jnp

from pmm.nn.recurrent_cell import GatedCell
from pmm.typing import ArrayDataShape, DictParams


class LSTMCell(GatedCell):
    """One LSTM step: ``{"x": (batch, in), "h": (batch, features), "c": (batch, features)}`` to
    ``{"h": h', "c": c'}``.

    With ``*`` the elementwise product and ``sigmoid(a) = 1 / (1 + exp(-a))``::

        i  = sigmoid(x W_ii + h W_hi + b_i)    input gate
        f  = sigmoid(x W_if + h W_hf + b_f)    forget gate
        g  = tanh(x W_ig + h W_hg + b_g)       candidate
        o  = sigmoid(x W_io + h W_ho + b_o)    output gate
        c' = f * c + i * g
        h' = o * tanh(c')

    the LSTM of PyTorch (``nn.LSTM``), Flax (``LSTMCell``) and Keras, without peepholes. ``h``
    is the step's output, ``c`` the cell state.

    Parameters: ``"input_weight": (in, 4 features)`` holding ``[W_ii | W_if | W_ig | W_io]`` in
    its column blocks (PyTorch's gate order), ``"hidden_weight": (features, 4 features)``
    likewise, and one ``"bias": (4 features,)``. The forget gate's bias starts at one, the
    others at zero (Gers et al., 2000; Jozefowicz et al., 2015; Keras' ``unit_forget_bias``), so
    that the cell starts out remembering. Weights are drawn as ``GatedCell`` says. Run it along
    sequences with ``pmm.nn.Scan(LSTMCell(features))``.

    Examples
    --------
    >>> params, _ = LSTMCell(features=1).init(jax.random.key(0), {"x": (2,), "h": (1,), "c": (1,)})
    >>> params["bias"]
    Array([0., 1., 0., 0.], dtype=float32)
    """

    gates: ClassVar[int] = 4

    def carry_shape(self, x_shape: ArrayDataShape) -> dict[str, ArrayDataShape]:
        return {"h": (self.features,), "c": (self.features,)}

    def biases(self) -> DictParams:
        forget = jnp.zeros((4, self.features), self.dtype).at[1].set(1)
        return {"bias": forget.reshape(-1)}

    def step(self, params: DictParams, data: dict[str, jax.Array]) -> dict[str, jax.Array]:
        x, h, c = data["x"], data["h"], data["c"]
        gates = x @ params["input_weight"] + h @ params["hidden_weight"] + params["bias"]
        input_gate, forget_gate, candidate, output_gate = jnp.split(gates, 4, axis=-1)
        c = jax.nn.sigmoid(forget_gate) * c + jax.nn.sigmoid(input_gate) * jnp.tanh(candidate)
        return {"h": jax.nn.sigmoid(output_gate) * jnp.tanh(c), "c": c}
