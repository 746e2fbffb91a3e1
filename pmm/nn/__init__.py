"""Standard neural-network layers as pmm modules.

Every layer is a frozen spec with keyword hyperparameters (``Linear(features=8)``); parameter
dtypes are ``"float32"`` (default), ``"float64"``, ``"complex64"``, ``"complex128"``, or the
half-precision ``"bfloat16"`` and ``"float16"``. A layer computes in JAX's promotion of its
data and parameter dtypes (float32 data in a complex64 layer: complex64), except that a
half-precision layer casts real data to its own dtype, so a whole model runs in half precision
when fed float32; normalisation layers keep their statistics in float32 (see ``BatchNorm``).

Examples
--------
>>> import jax, pmm
>>> model = pmm.nn.Linear(features=8) >> pmm.nn.ReLU() >> pmm.nn.Linear(features=1)
>>> model.output_shape((3,))
(1,)
"""

from pmm.nn.activation import ACTIVATIONS, Activation
from pmm.nn.activations import (
    CELU,
    ELU,
    GELU,
    GLU,
    SELU,
    ElementwiseActivation,
    HardSigmoid,
    HardSiLU,
    HardSwish,
    HardTanh,
    Identity,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    SoftSign,
    SparsePlus,
    SparseSigmoid,
    Squareplus,
    Swish,
    Tanh,
)
from pmm.nn.affine_tensor import AffineTensor
from pmm.nn.attention import MultiHeadAttention
from pmm.nn.constant import Constant
from pmm.nn.conv import Conv
from pmm.nn.conv_transpose import ConvTranspose
from pmm.nn.dropout import Dropout
from pmm.nn.einsum import Einsum
from pmm.nn.embedding import Embedding
from pmm.nn.function import Function
from pmm.nn.group_norm import GroupNorm
from pmm.nn.gru import GRUCell
from pmm.nn.initializers import INITIALIZERS
from pmm.nn.linear import Bias, Linear
from pmm.nn.logsumexp import LogSumExp
from pmm.nn.lstm import LSTMCell
from pmm.nn.matmul import MatMul
from pmm.nn.mlp import MLP
from pmm.nn.normalization import BatchNorm, LayerNorm
from pmm.nn.pooling import AvgPool, GlobalAvgPool, MaxPool
from pmm.nn.prelu import PReLU
from pmm.nn.recurrent_cell import RecurrentCell
from pmm.nn.reshape import Flatten, Reshape
from pmm.nn.rms_norm import RMSNorm
from pmm.nn.scan import Scan
from pmm.nn.standardize import Standardize
from pmm.nn.tree_flatten import TreeFlatten, TreeUnflatten

__all__ = [
    "ACTIVATIONS",
    "CELU",
    "ELU",
    "GELU",
    "GLU",
    "GRUCell",
    "GroupNorm",
    "INITIALIZERS",
    "MLP",
    "SELU",
    "Activation",
    "AffineTensor",
    "AvgPool",
    "BatchNorm",
    "Bias",
    "Constant",
    "Conv",
    "ConvTranspose",
    "Dropout",
    "Einsum",
    "ElementwiseActivation",
    "Embedding",
    "Flatten",
    "Function",
    "GlobalAvgPool",
    "HardSiLU",
    "HardSigmoid",
    "HardSwish",
    "HardTanh",
    "Identity",
    "LSTMCell",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSigmoid",
    "LogSoftmax",
    "LogSumExp",
    "MatMul",
    "MaxPool",
    "Mish",
    "MultiHeadAttention",
    "PReLU",
    "RMSNorm",
    "RecurrentCell",
    "ReLU",
    "ReLU6",
    "Reshape",
    "Scan",
    "Sigmoid",
    "SiLU",
    "SoftSign",
    "Softmax",
    "Softplus",
    "SparsePlus",
    "SparseSigmoid",
    "Squareplus",
    "Standardize",
    "Swish",
    "Tanh",
    "TreeFlatten",
    "TreeUnflatten",
]
