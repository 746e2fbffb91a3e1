"""``pmm.preprocessing``: scalers that are modules, so they train, save and load with the model.

- ``StandardScaler()``, ``MinMaxScaler(feature_range=(0, 1))``, ``RobustScaler(quantile_range=
  (25, 75))``: per-feature affine maps ``(x - center) / scale`` of every data leaf, fitted with
  ``scaler.fit(x) -> (params, state)`` (the statistics live in the state, which ``pmm.fit``
  never trains); ``scaler.inverse()`` (``Inverse``) maps back.
- ``OneHot(num_classes)``: integer ids to one-hot vectors; its inverse is ``ArgMax``.

``x_scaler >> net >> y_scaler.inverse()`` is one model from raw inputs to raw targets; see
``docs/uncertainty.md``.

Examples
--------
>>> import jax, numpy as np, pmm
>>> x, y = np.linspace(0, 10, 8)[:, None], np.linspace(100, 200, 8)[:, None]
>>> x_scaler, y_scaler = pmm.preprocessing.StandardScaler(), pmm.preprocessing.StandardScaler()
>>> net = pmm.nn.Linear(features=1)
>>> model = x_scaler >> net >> y_scaler.inverse()
>>> net_params, net_state = net.init(jax.random.key(0), (1,))
>>> (xp, xs), (yp, ys) = x_scaler.fit(x), y_scaler.fit(y)
>>> params, state = (xp, net_params, yp), (xs, net_state, ys)
>>> pmm.predict(model, params, state, x).shape
(8, 1)
"""

from pmm.preprocessing.inverse import Inverse
from pmm.preprocessing.minmax import MinMaxScaler
from pmm.preprocessing.onehot import ArgMax, OneHot
from pmm.preprocessing.robust import RobustScaler
from pmm.preprocessing.scaler import Scaler
from pmm.preprocessing.standard import StandardScaler

__all__ = [
    "ArgMax",
    "Inverse",
    "MinMaxScaler",
    "OneHot",
    "RobustScaler",
    "Scaler",
    "StandardScaler",
]
