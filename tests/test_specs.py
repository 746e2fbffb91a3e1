"""Every module is a plain frozen dataclass (issue 10 section 3): replace, repr, hash, fields."""

import dataclasses

import pytest

import pmm
from pmm.module import _REGISTRY
from tests.catalogue import EXAMPLES

#: The names a repr may use: every public class of pmm, pmm.nn, pmm.matrix, pmm.preprocessing.
NAMESPACE = {**vars(pmm.matrix), **vars(pmm.nn), **vars(pmm.preprocessing), **vars(pmm)}


def test_every_registered_built_in_class_has_an_example_in_the_catalogue():
    covered = {pmm.registry_name(type(module)) for module in EXAMPLES}
    built_in = {name for name in _REGISTRY if name.startswith("pmm.")}
    assert built_in - covered == set()


@pytest.mark.parametrize("module", EXAMPLES, ids=repr)
def test_the_repr_of_every_built_in_builds_an_equal_module(module):
    assert eval(repr(module), NAMESPACE) == module


@pytest.mark.parametrize("module", EXAMPLES, ids=repr)
def test_dataclasses_replace_without_changes_gives_an_equal_module(module):
    assert dataclasses.replace(module) == module


@pytest.mark.parametrize("module", EXAMPLES, ids=repr)
def test_a_module_holds_nothing_but_its_fields(module):
    hash(module)  # the hash is cached, but not on the module
    assert set(vars(module)) == {field.name for field in dataclasses.fields(module)}


def test_replace_changes_the_layers_of_a_sequential():
    model = pmm.nn.Linear(features=2) >> pmm.nn.Tanh()
    changed = dataclasses.replace(model, layers=(pmm.nn.Linear(features=3), pmm.nn.ReLU()))
    assert changed == pmm.nn.Linear(features=3) >> pmm.nn.ReLU()
    assert pmm.Sequential(layers=[pmm.nn.ReLU()]) == pmm.Sequential(pmm.nn.ReLU())


def test_replace_changes_the_branches_and_names_of_a_parallel():
    model = pmm.Parallel(a=pmm.nn.Tanh(), b=pmm.nn.ReLU())
    renamed = dataclasses.replace(model, names=("y", "x"))
    assert renamed == pmm.Parallel(y=pmm.nn.Tanh(), x=pmm.nn.ReLU())
    positional = dataclasses.replace(model, names=None)
    assert positional == pmm.Parallel(pmm.nn.Tanh(), pmm.nn.ReLU())


def test_replace_changes_a_field_of_a_layer_and_validates_it():
    assert dataclasses.replace(pmm.nn.Linear(features=2), features=5).features == 5
    with pytest.raises(ValueError, match="'features'"):
        dataclasses.replace(pmm.nn.Linear(features=2), features=0)


def test_a_branch_may_be_named_like_a_field_of_parallel():
    model = pmm.Parallel(branches=pmm.nn.Tanh(), names=pmm.nn.ReLU())
    assert model.names == ("branches", "names")
    assert model.output_shape((3,)) == {"branches": (3,), "names": (3,)}
    assert repr(model) == "Parallel(branches=Tanh(), names=ReLU())"


def test_parallel_refuses_fields_and_branches_together_and_bad_names():
    with pytest.raises(ValueError, match="not both"):
        pmm.Parallel(pmm.nn.Tanh(), branches=(pmm.nn.ReLU(),))
    with pytest.raises(ValueError, match="field 'names'"):
        pmm.Parallel(branches=(pmm.nn.Tanh(), pmm.nn.ReLU()), names=("a", "a"))
    with pytest.raises(ValueError, match="not both"):
        pmm.Sequential(pmm.nn.Tanh(), layers=(pmm.nn.ReLU(),))


def test_the_hash_includes_the_class():
    assert hash(pmm.nn.Tanh()) != hash(pmm.nn.ReLU())
    assert hash(pmm.nn.Tanh()) == hash(pmm.nn.Tanh())


def test_the_hash_is_computed_once_per_instance(monkeypatch):
    model = pmm.Sequential(*[pmm.nn.Tanh()] * 201)
    first = hash(model)
    calls = []
    original = type(model)._compared
    monkeypatch.setattr(type(model), "_compared", lambda self: calls.append(1) or original(self))
    assert hash(model) == first
    assert calls == []


def test_equal_modules_built_apart_hash_alike():
    first = pmm.Sequential(*[pmm.nn.Linear(features=2)] * 50)
    second = pmm.Sequential(*[pmm.nn.Linear(features=2)] * 50)
    assert first is not second and first == second and hash(first) == hash(second)


def test_numpy_scalars_are_accepted_as_the_python_numbers_they_hold():
    import numpy as np

    layer = pmm.nn.Linear(features=np.int64(3))
    assert layer == pmm.nn.Linear(features=3) and type(layer.features) is int
    assert pmm.nn.Dropout(rate=np.float32(0.5)).rate == 0.5
    assert pmm.nn.Linear(features=2, use_bias=np.bool_(False)).use_bias is False
