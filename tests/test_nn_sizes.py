"""Every pmm.nn layer at the edges of size: empty batches, empty feature axes, impossible sizes."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pmm
from pmm import nn
from tests.test_nn_common import CASES, IDS

#: The common cases and the layers beyond them, each with an input whose last axis may be empty.
SWEEP = [pytest.param(*case, id=name) for case, name in zip(CASES, IDS, strict=True)] + [
    pytest.param(nn.MatMul(features=2, axis=-2), (3, 4), False, id="MatMul"),
    pytest.param(nn.AffineTensor(shape=(2, 2)), (3,), False, id="AffineTensor"),
    pytest.param(nn.Bias(scalar=True), (3,), False, id="Bias-scalar"),
    pytest.param(nn.LogSumExp(axis=-2), (3, 4), False, id="LogSumExp"),
    pytest.param(nn.Standardize(), (2, 3), False, id="Standardize"),
    pytest.param(nn.TreeFlatten(), (2, 3), False, id="TreeFlatten"),
]


def _with_last_axis(input_shape, size):
    return (*input_shape[:-1], size)


def _run(module, input_shape, batch, training, checks):
    key = jax.random.key(0)
    params, state = module.init(key, input_shape)
    data = jax.random.normal(jax.random.key(1), (batch, *input_shape))
    with pmm.shape_checks(checks):
        output, new_state = module(params, data, training, state, key)
    return output, state, new_state


@pytest.mark.parametrize(("module", "input_shape", "training"), SWEEP)
def test_a_batch_of_zero_samples_gives_an_output_of_zero_samples(module, input_shape, training):
    output, state, new_state = _run(module, input_shape, 0, training, checks=True)
    assert output.shape == (0, *module.output_shape(input_shape))
    jax.tree.map(np.testing.assert_array_equal, new_state, state)


@pytest.mark.parametrize(("module", "input_shape", "training"), SWEEP)
def test_an_empty_feature_axis_gives_a_finite_output_of_the_promised_shape(
    module, input_shape, training
):
    input_shape = _with_last_axis(input_shape, 0)
    output, _, new_state = _run(module, input_shape, 3, training, checks=False)
    assert output.shape == (3, *module.output_shape(input_shape))
    for leaf in jax.tree.leaves((output, new_state)):
        assert bool(jnp.isfinite(leaf).all())


@pytest.mark.parametrize("checks", [False, True])
def test_batch_norm_on_an_empty_training_batch_keeps_its_running_statistics(checks, key):
    model = nn.BatchNorm()
    params, state = model.init(key, (3,))
    _, state = model(params, jax.random.normal(key, (8, 3)), True, state, None)
    with pmm.shape_checks(checks):
        _, after = jax.jit(model, static_argnums=2)(params, jnp.zeros((0, 3)), True, state, None)
    jax.tree.map(np.testing.assert_array_equal, after, state)
    output, _ = model(params, jnp.ones((2, 3)), False, after, None)
    assert bool(jnp.isfinite(output).all())


@pytest.mark.parametrize(
    ("module", "input_shape"),
    [
        (nn.Flatten(), (2, 3)),
        (nn.Reshape(shape=(-1, 2)), (2, 3)),
        (nn.Reshape(shape=(3, 2)), (6,)),
        (nn.TreeFlatten(), {"a": (2, 3), "b": ()}),
    ],
    ids=repr,
)
def test_reshaping_an_empty_batch_needs_no_division(module, input_shape):
    data = pmm.shapes.map_shapes(lambda shape: jnp.zeros((0, *shape)), input_shape)
    output, _ = module((), data)
    assert output.shape == (0, *module.output_shape(input_shape))


@pytest.mark.parametrize(
    "module",
    [nn.Linear(features=2), nn.Einsum(equation="bi,ij->bj", sizes={"j": 2}), nn.MLP(hidden=(3,))],
    ids=repr,
)
def test_a_layer_summing_over_an_empty_axis_outputs_its_bias(module, key):
    params, _ = module.init(key, (0,))
    output, _ = module(params, jnp.zeros((4, 0)))
    assert output.shape == (4, *module.output_shape((0,)))
    np.testing.assert_array_equal(output, np.zeros(output.shape))


HUGE = 2**62

#: (module, input_shape, what the message must name) for arrays no machine can hold.
IMPOSSIBLE = [
    (nn.Linear(features=HUGE), (4,), "features"),
    (nn.Linear(features=2**63), (4,), "features"),
    (nn.Linear(features=HUGE), (0,), "features"),
    (nn.Linear(features=4), (HUGE,), "last axis"),
    (nn.Bias(), (HUGE, 4), "input_shape"),
    (nn.BatchNorm(), (HUGE,), "last axis"),
    (nn.LayerNorm(), (HUGE,), "last axis"),
    (nn.RMSNorm(), (HUGE,), "last axis"),
    (nn.GroupNorm(groups=1), (HUGE,), "last axis"),
    (nn.Einsum(equation="bi,ij->bj", sizes={"j": HUGE}), (3,), "sizes"),
    (nn.MLP(hidden=(HUGE,)), (3,), "features"),
    (nn.Conv(HUGE, (3,)), (5, 1), "features"),
    (nn.Conv(4, (2**30, 2**30), padding="CIRCULAR"), (5, 5, 1), "kernel_size"),
    (nn.Conv(4, (3,)), (5, HUGE), "channels"),
    (nn.ConvTranspose(HUGE, (3,)), (5, 0), "features"),
    (nn.MatMul(features=HUGE), (3,), "features"),
    (nn.MatMul(features=4, axis=1), (HUGE, 2), "contracted axis"),
    (nn.AffineTensor(shape=(HUGE,)), (2,), "shape"),
]


@pytest.mark.parametrize(("module", "input_shape", "named"), IMPOSSIBLE, ids=repr)
def test_init_refuses_arrays_no_machine_can_hold_naming_the_cause(module, input_shape, named):
    with pytest.raises(ValueError, match=f"no machine can hold; lower .*{named}"):
        module.init(jax.random.key(0), input_shape)
