"""pmm.parameter_paths: the module that owns each params leaf, named as error messages name it."""

import jax
import pytest

import pmm
from tests.modules import Counter, Dense, Scale


def _paths(model, input_shape=(3,)):
    params, _ = model.init(jax.random.key(0), input_shape)
    return jax.tree.leaves(
        pmm.parameter_paths(model, params), is_leaf=lambda node: isinstance(node, pmm.ParamPath)
    )


def test_a_leaf_layer_owns_its_params():
    (path,) = _paths(Scale())
    assert path.module == Scale() and path.keys == ("s",) and str(path) == "Scale()['s']"


def test_combinators_name_their_children_as_errors_do():
    model = Dense(features=2) >> pmm.Parallel(a=Scale(), b=pmm.Residual(Dense(features=2)))
    assert [str(p) for p in _paths(model)] == [
        "Sequential[0] > Dense(features=2)['w']",
        "Sequential[1] > Parallel['a'] > Scale()['s']",
        "Sequential[1] > Parallel['b'] > Residual > Dense(features=2)['w']",
    ]
    assert [p.keys for p in _paths(model)] == [(0, "w"), (1, "a", "s"), (1, "b", "w")]


def test_composites_show_their_built_module_inside():
    (weight,) = [p for p in _paths(pmm.nn.MLP(hidden=(4,))) if p.keys[-1] == "weight"][:1]
    assert str(weight) == "MLP(hidden=(4,)) > Sequential[0] > Linear(features=4)['weight']"
    assert [type(m).__name__ for m in weight.modules] == ["MLP", "Sequential", "Linear"]


@pytest.mark.parametrize("model", [Counter(), pmm.nn.ReLU() >> pmm.nn.Tanh()])
def test_parameterless_models_have_no_paths(model):
    assert _paths(model) == []
