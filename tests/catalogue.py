"""One example of every built-in module class, with hyperparameters off their defaults.

Tests that must hold for every built-in (``eval(repr(m)) == m``, ``dataclasses.replace``, save and
load) run over ``EXAMPLES``; ``test_specs.py`` asserts that every registered ``pmm.*`` class has
an example here, so a new layer is covered as soon as it is added.
"""

import jax.numpy as jnp

import pmm
from pmm import matrix, nn

pmm.register_function(jnp.square, "tests.catalogue.square")

EXAMPLES = [
    nn.Linear(features=3, use_bias=False, dtype="complex64"),
    nn.Bias(dtype="float32"),
    nn.Bias(scalar=True),
    nn.MatMul(features=2, axis=-2, dtype="complex64", kernel_init="zeros"),
    nn.AffineTensor(shape=(2, 3), bias_term=False, dtype="complex64"),
    nn.TreeFlatten(),
    nn.TreeUnflatten(shape={"x": (2, 2), "y": [(3,), ()]}),
    nn.LogSumExp(axis=-2, keepdims=True),
    nn.Standardize(axis=(-1, -2), epsilon=1e-3),
    nn.Activation("gelu"),
    nn.CELU(alpha=0.5),
    nn.ELU(alpha=2.0),
    nn.GELU(approximate=False),
    nn.GLU(axis=-1),
    nn.HardSigmoid(),
    nn.HardSiLU(),
    nn.HardTanh(),
    nn.Identity(),
    nn.LeakyReLU(negative_slope=0.2),
    nn.LogSigmoid(),
    nn.LogSoftmax(axis=-1),
    nn.Mish(),
    nn.ReLU(),
    nn.ReLU6(),
    nn.SELU(),
    nn.Sigmoid(),
    nn.SiLU(),
    nn.Softmax(axis=-1),
    nn.Softplus(),
    nn.SoftSign(),
    nn.SparsePlus(),
    nn.SparseSigmoid(),
    nn.Squareplus(b=2.0),
    nn.Tanh(),
    nn.Dropout(rate=0.25),
    nn.BatchNorm(momentum=0.9, epsilon=1e-3),
    nn.LayerNorm(use_bias=False),
    nn.Flatten(),
    nn.Reshape(shape=(3, -1)),
    nn.Einsum(equation="bi,ij->bj", sizes={"j": 4}),
    nn.Constant(value=(1.0, float("nan")), trainable=True),
    nn.MLP(hidden=(4,), features=2, activation="tanh"),
    nn.Embedding(num_embeddings=7, features=3, kernel_init="glorot_uniform"),
    nn.MultiHeadAttention(num_heads=2, features=4, qkv_features=6, dropout_rate=0.1, causal=True),
    nn.GRUCell(features=3, recurrent_init="lecun_normal"),
    nn.LSTMCell(features=2, dtype="float64"),
    nn.Scan(nn.GRUCell(features=2), reverse=True, return_sequences=False),
    nn.GroupNorm(groups=2, epsilon=1e-3, use_bias=False),
    nn.RMSNorm(epsilon=1e-5, use_scale=False),
    nn.PReLU(initial_slope=0.1, per_feature=False),
    nn.Function("tests.catalogue.square"),
    matrix.AffineHermitianMatrix(4, smoothing=0.5),
    matrix.LowRankAffineHermitianMatrix(4, rank=2),
    matrix.Eigenvalues(num_eig=2, which="LA"),
    matrix.Eigenvectors(num_eig=2, which="SM"),
    matrix.Eigensystem(num_eig=3),
    matrix.ExpectationValueSum(output_size=2),
    matrix.TransitionAmplitudeSum(output_size=2, num_observables=2),
    matrix.AEPMM(matrix_size=5, num_eig=2),
    matrix.AOPMM(matrix_size=5, num_eig=2, output_size=3),
    pmm.Sequential(nn.Linear(features=2), nn.Tanh()),
    pmm.Parallel(nn.Tanh(), nn.ReLU()),
    pmm.Parallel(left=nn.Tanh(), right=nn.Linear(features=2)),
    pmm.Parallel(branches=nn.Tanh(), names=nn.ReLU()),
    pmm.Parallel(**{"not an identifier": nn.Tanh()}),
    pmm.Residual(nn.Linear(features=3) >> nn.Tanh()),
    pmm.Select(("x", 1)),
    pmm.Concatenate(axis=-2),
    pmm.checked(nn.Linear(features=2) >> nn.ReLU()),
    pmm.Graph(
        nodes={
            "pair": (pmm.Parallel(nn.Tanh(), nn.Linear(features=2)), "input"),
            "join": (pmm.Concatenate(), {"b": ["pair/1", "input"], "a": "pair/0"}),
        },
        output=("join", "pair"),
    ),
]
