"""What every layer of issue 12's sequence half promises: output_shape, jit == eager, ensembles
over stacked params, save/load, truthful annotations, and gradients against central differences.

Each case runs in float64 (the gradient checks need it) on data of its own kind: integer ids for
``Embedding``, a bool mask for attention, one step and its carry for the cells.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from beartype import beartype
from jaxtyping import jaxtyped

import pmm
from pmm import nn
from tests.random_params import random_params
from tests.test_nn_gradients import _central_difference

BATCH = 3
MASK = jax.ShapeDtypeStruct((5,), jnp.bool_)
IDS = jax.ShapeDtypeStruct((4,), jnp.int32)

#: (module, input_shape); dtypes are float64 where the layer takes one. The cells run inside
#: Scan here (test_nn_recurrent.py checks them one step at a time), attention on an array
#: without a mask runs in test_nn_attention.py, Function in test_functions.py.
CASES = {
    "Embedding": (nn.Embedding(num_embeddings=6, features=3, dtype="float64"), IDS),
    "MHA-mask-causal": (
        nn.MultiHeadAttention(num_heads=2, causal=True, dtype="float64"),
        {"x": (5, 4), "mask": MASK},
    ),
    "MHA-cross": (
        nn.MultiHeadAttention(num_heads=2, features=3, qkv_features=6, dtype="float64"),
        {"q": (2, 4), "kv": (5, 3), "mask": MASK},
    ),
    "Scan-GRU": (nn.Scan(nn.GRUCell(features=3, dtype="float64")), (5, 2)),
    "Scan-LSTM-reverse-last": (
        nn.Scan(nn.LSTMCell(features=3, dtype="float64"), reverse=True, return_sequences=False),
        (5, 2),
    ),
    "GroupNorm": (nn.GroupNorm(groups=2, dtype="float64"), (3, 4)),
    "RMSNorm": (nn.RMSNorm(dtype="float64"), (2, 4)),
    "PReLU": (nn.PReLU(dtype="float64"), (4,)),
}
PARAMETRIZED = pytest.mark.parametrize(("module", "input_shape"), CASES.values(), ids=list(CASES))
#: The kinds of data and code paths, for the tests that run eagerly (each eager operation is
#: compiled on its own, so running every case eagerly costs many compilations).
EAGER_CASES = ("Embedding", "MHA-mask-causal", "Scan-LSTM-reverse-last", "GroupNorm")
EAGER = pytest.mark.parametrize(
    ("module", "input_shape"), [CASES[name] for name in EAGER_CASES], ids=EAGER_CASES
)


def make_data(input_shape, seed=1, batch=BATCH):
    """Data for ``input_shape`` (numpy draws: no compilation): normal floats, ids in range, and
    masks that keep the first key."""
    rng = np.random.default_rng(seed)

    def leaf(shape):
        if not isinstance(shape, jax.ShapeDtypeStruct):
            return jnp.asarray(rng.normal(size=(batch, *shape)))
        if shape.dtype == jnp.bool_:
            mask = rng.random((batch, *shape.shape)) < 0.6
            mask[:, 0] = True
            return jnp.asarray(mask)
        return jnp.asarray(rng.integers(0, 6, (batch, *shape.shape)), shape.dtype)

    return pmm.shapes.map_shapes(leaf, input_shape)


def float_leaves(data):
    """The float leaves of ``data`` and a function putting new float leaves back in place."""
    leaves, structure = jax.tree.flatten(data)
    is_float = [jnp.issubdtype(leaf.dtype, jnp.floating) for leaf in leaves]

    def rebuild(floats):
        floats = iter(floats)
        return jax.tree.unflatten(
            structure,
            [next(floats) if f else leaf for f, leaf in zip(is_float, leaves, strict=True)],
        )

    return [leaf for f, leaf in zip(is_float, leaves, strict=True) if f], rebuild


@PARAMETRIZED
def test_output_shape_equals_the_shape_of_the_output(module, input_shape, x64):
    params, state = random_params(module, input_shape, scale=0.5), ()
    call = lambda p, x: module(p, x, False, state, None)  # noqa: E731
    output, _ = jax.eval_shape(call, params, make_data(input_shape))
    expected = module.output_shape(input_shape)
    jax.tree.map(
        lambda out, shape: np.testing.assert_equal(out.shape, (BATCH, *pmm.shapes.dims(shape))),
        output,
        expected,
        is_leaf=pmm.shapes.is_shape,
    )


@EAGER
def test_jit_equals_eager(module, input_shape, x64):
    params, state = random_params(module, input_shape, scale=0.5), ()
    data = make_data(input_shape)
    eager = module(params, data, False, state, None)
    jitted = jax.jit(module, static_argnums=2)(params, data, False, state, None)
    jax.tree.map(
        lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12), eager, jitted
    )


@PARAMETRIZED
def test_the_checks_accept_a_correct_jitted_call(module, input_shape, x64):
    params, state = random_params(module, input_shape, scale=0.5), ()
    data = make_data(input_shape)
    call = jax.jit(module, static_argnums=2)
    checked = jax.jit(pmm.checked(module), static_argnums=2)
    jax.tree.map(
        lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-12),
        checked(params, data, False, state, None),
        call(params, data, False, state, None),
    )


@EAGER
def test_the_checks_accept_a_correct_eager_call(module, input_shape, x64):
    params, state = random_params(module, input_shape, scale=0.5), ()
    data = make_data(input_shape)
    jax.tree.map(
        lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-12),
        pmm.checked(module)(params, data, False, state, None),
        module(params, data, False, state, None),
    )


@PARAMETRIZED
def test_apply_annotations_hold_under_jaxtyped_beartype(module, input_shape, x64):
    params, state = random_params(module, input_shape, scale=0.5), ()
    checked = jaxtyped(typechecker=beartype)(type(module).apply)
    jax.jit(lambda p, x: checked(module, p, x, False, state, None))(params, make_data(input_shape))


@PARAMETRIZED
def test_an_ensemble_over_stacked_params_equals_each_member(module, input_shape, x64):
    members = [random_params(module, input_shape, seed, scale=0.5) for seed in range(3)]
    stacked = jax.tree.map(lambda *leaves: jnp.stack(leaves), *members)
    state = ()
    data = make_data(input_shape)
    ensemble = jax.vmap(module, in_axes=(0, None, None, None, None))
    outputs, _ = jax.jit(ensemble, static_argnums=2)(stacked, data, False, state, None)
    for index, params in enumerate(members):
        expected = module(params, data, False, state, None)[0]
        jax.tree.map(
            lambda out, exp, i=index: np.testing.assert_allclose(out[i], exp, rtol=1e-12),
            outputs,
            expected,
        )


@PARAMETRIZED
def test_save_and_load_give_back_the_same_model_and_arrays(module, input_shape, tmp_path, x64):
    params, state = random_params(module, input_shape, scale=0.5), ()
    path = tmp_path / "model.pmm"
    pmm.save(path, module, params, state, input_shape=input_shape)  # typed ones included
    loaded, loaded_params, loaded_state = pmm.load(path)
    assert loaded == module
    jax.tree.map(np.testing.assert_array_equal, (loaded_params, loaded_state), (params, state))


@PARAMETRIZED
def test_grad_wrt_params_and_data_matches_central_differences(module, input_shape, x64):
    params, state = random_params(module, input_shape, scale=0.5), ()
    data = make_data(input_shape)
    floats, rebuild = float_leaves(data)
    probe = jax.tree.map(
        lambda leaf: jax.random.normal(jax.random.key(2), leaf.shape, jnp.float64),
        module(params, data, False, state, None)[0],
    )

    def loss(p, x):
        output = module(p, rebuild(x), False, state, None)[0]
        return sum(
            jnp.sum(jnp.sin(o) * w)
            for o, w in zip(jax.tree.leaves(output), jax.tree.leaves(probe), strict=True)
        )

    analytic = jax.jit(jax.grad(lambda both: loss(*both)))((params, floats))
    numeric = _central_difference(lambda both: loss(*both), (params, floats))
    jax.tree.map(
        lambda g, n: np.testing.assert_allclose(g, n, rtol=1e-6, atol=1e-8), analytic, numeric
    )


@pytest.mark.parametrize(
    "name",
    [
        "Embedding",
        "MultiHeadAttention",
        "GRUCell",
        "LSTMCell",
        "Scan",
        "GroupNorm",
        "RMSNorm",
        "PReLU",
        "Function",
        "RecurrentCell",
    ],
)
def test_every_new_layer_is_exported_and_documents_an_example(name):
    assert name in nn.__all__
    assert ">>>" in getattr(nn, name).__doc__
