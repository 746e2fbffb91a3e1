"""What every pmm.nn layer promises: output_shape, jit == eager, truthful annotations, dtypes,
frozen hashable specs, documented classes."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from beartype import beartype
from jaxtyping import jaxtyped

import pmm
from pmm import nn

#: (module, input_shape, training, needs a key) for every kind of layer.
CASES = [
    (nn.Linear(features=3), (2, 4), False),
    (nn.Linear(features=3, use_bias=False, dtype="complex64"), (4,), False),
    (nn.Bias(), (2, 3), False),
    (nn.ReLU(), (4,), False),
    (nn.GLU(axis=1), (4, 3), False),
    (nn.Softmax(), (2, 5), False),
    (nn.Activation("gelu"), (4,), False),
    (nn.Dropout(rate=0.5), (4,), True),
    (nn.Dropout(rate=0.5), (4,), False),
    (nn.BatchNorm(), (2, 4), True),
    (nn.BatchNorm(), (4,), False),
    (nn.LayerNorm(), (2, 4), False),
    (nn.Flatten(), (2, 3), False),
    (nn.Reshape(shape=(3, -1)), (6,), False),
    (nn.Einsum(equation="bxi,ij->bjx", sizes={"j": 2}), (3, 4), False),
    (nn.Constant(value=((1.0, 2.0),)), (4,), False),
    (nn.Constant(value=(1.0, 2.0), trainable=True), (4,), False),
    (nn.MLP(hidden=(6,), features=2), (4,), False),
    (nn.Conv(features=3, kernel_size=(3, 2), strides=2, groups=1), (5, 4, 2), False),
    (nn.Conv(features=4, kernel_size=(2,), padding="CIRCULAR", groups=2), (5, 2), False),
    (nn.ConvTranspose(features=2, kernel_size=(3, 3), strides=2), (3, 4, 2), False),
    (nn.MaxPool(window=2, padding="SAME"), (5, 4, 2), False),
    (nn.AvgPool(window=(3,), strides=1, padding="SAME"), (5, 2), False),
    (nn.GlobalAvgPool(), (3, 4, 2), False),
]
IDS = [f"{module!r}-{'train' if training else 'eval'}" for module, _, training in CASES]


def _run(module, input_shape, training, call):
    key = jax.random.key(0)
    params, state = module.init(key, input_shape)
    data = jax.random.normal(jax.random.key(1), (3, *input_shape))
    return call(params, data, training, state, key)


@pytest.mark.parametrize(("module", "input_shape", "training"), CASES, ids=IDS)
def test_output_shape_equals_the_shape_of_the_output(module, input_shape, training):
    output, _ = _run(module, input_shape, training, module)
    assert output.shape == (3, *module.output_shape(input_shape))


@pytest.mark.parametrize(("module", "input_shape", "training"), CASES, ids=IDS)
def test_jit_equals_eager(module, input_shape, training):
    eager = _run(module, input_shape, training, module)
    jitted = _run(module, input_shape, training, jax.jit(module, static_argnums=2))
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6), eager, jitted)


@pytest.mark.parametrize(("module", "input_shape", "training"), CASES, ids=IDS)
def test_apply_annotations_hold_under_jaxtyped_beartype(module, input_shape, training):
    checked = jaxtyped(typechecker=beartype)(type(module).apply)
    _run(module, input_shape, training, lambda *args: checked(module, *args))


@pytest.mark.parametrize(("module", "input_shape", "training"), CASES, ids=IDS)
def test_specs_are_hashable_and_rebuild_from_their_hyperparameters(module, input_shape, training):
    assert hash(module) == hash(type(module).from_hyperparams(module.hyperparams))
    assert type(module).from_hyperparams(module.hyperparams) == module
    assert pmm.registered_class(pmm.registry_name(type(module))) is type(module)


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64"])
@pytest.mark.parametrize(
    "make",
    [
        lambda dtype: nn.Linear(features=2, dtype=dtype),
        lambda dtype: nn.Bias(dtype=dtype),
        lambda dtype: nn.BatchNorm(dtype=dtype),
        lambda dtype: nn.LayerNorm(dtype=dtype),
        lambda dtype: nn.Einsum(equation="bi,ij->bj", sizes={"j": 2}, dtype=dtype),
        lambda dtype: nn.MLP(hidden=(3,), activation="tanh", dtype=dtype),
    ],
    ids=["Linear", "Bias", "BatchNorm", "LayerNorm", "Einsum", "MLP"],
)
def test_params_and_output_take_the_layer_dtype(make, dtype, x64):
    module = make(dtype)
    params, state = module.init(jax.random.key(0), (3,))
    assert {leaf.dtype for leaf in jax.tree.leaves(params)} == {jnp.dtype(dtype)}
    output, _ = module(params, jnp.ones((2, 3), dtype), False, state, None)
    assert output.dtype == jnp.dtype(dtype)


@pytest.mark.parametrize(
    "cls",
    [nn.Linear, nn.Bias, nn.BatchNorm, nn.LayerNorm, nn.Einsum, nn.MLP, nn.Conv, nn.ConvTranspose],
)
@pytest.mark.parametrize("dtype", ["int32", "float8_e4m3fn", "bool", "not a dtype"])
def test_a_dtype_that_is_not_a_parameter_dtype_fails_naming_the_field(cls, dtype):
    required = {
        nn.Linear: {"features": 1},
        nn.Einsum: {"equation": "bi,ij->bj", "sizes": {"j": 1}},
        nn.Conv: {"features": 1, "kernel_size": (3,)},
        nn.ConvTranspose: {"features": 1, "kernel_size": (3,)},
    }
    with pytest.raises(ValueError, match=r"'dtype'.*float32"):
        cls(**required.get(cls, {}), dtype=dtype)


@pytest.mark.parametrize("features", [0, -3, 2.0, True, "8"])
def test_linear_features_must_be_a_positive_int(features):
    with pytest.raises(ValueError, match="'features'"):
        nn.Linear(features=features)


@pytest.mark.parametrize(
    "name", [name for name in nn.__all__ if isinstance(getattr(nn, name), type)]
)
def test_every_public_class_documents_an_example(name):
    assert ">>>" in (getattr(nn, name).__doc__ or "")


#: The CASES with params: an ensemble over stacked params needs a leaf to map over.
WITH_PARAMS = [
    pytest.param(*case, id=name)
    for case, name in zip(CASES, IDS, strict=True)
    if jax.tree.leaves(case[0].init(jax.random.key(0), case[1])[0])
]


@pytest.mark.parametrize(("module", "input_shape", "training"), WITH_PARAMS)
def test_an_ensemble_over_stacked_params_equals_each_member(module, input_shape, training):
    keys = jax.random.split(jax.random.key(0), 3)
    members = [module.init(key, input_shape)[0] for key in keys]
    stacked = jax.tree.map(lambda *leaves: jnp.stack(leaves), *members)
    state = module.init(keys[0], input_shape)[1]
    data = jax.random.normal(jax.random.key(1), (4, *input_shape))
    ensemble = jax.vmap(module, in_axes=(0, None, None, None, None))
    outputs, _ = ensemble(stacked, data, training, state, None)
    for output, params in zip(outputs, members, strict=True):
        expected = module(params, data, training, state, None)[0]
        np.testing.assert_allclose(output, expected, rtol=1e-5, atol=1e-6)
