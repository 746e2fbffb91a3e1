"""``pmm.Module``: a frozen spec of hyperparameters that *is* its pure ``ModuleCallable``.

A module holds configuration only. ``module.init(rng, input_shape)`` builds ``(params, state)``;
``module(params, data, training, state, rng)`` computes ``(data, state)``. Because a module is a
frozen, hashable dataclass, ``jax.jit(module, static_argnums=2)`` and ``jax.vmap(module, ...)``
take it as it is.

Examples
--------
>>> import dataclasses, jax, jax.numpy as jnp, pmm
>>> @dataclasses.dataclass(frozen=True)
... class Scale(pmm.Module):
...     factor: float = 2.0
...     def init(self, rng, input_shape):
...         return {"s": jnp.full(input_shape, self.factor)}, ()
...     def apply(self, params, data, training, state, rng):
...         return data * params["s"], state
>>> params, state = Scale().init(jax.random.key(0), (3,))
>>> Scale()(params, jnp.ones((4, 3)), False, state, None)[0].shape
(4, 3)
"""

import abc
import dataclasses
import math
import typing
import weakref
from typing import Any, ClassVar, Self

import jax
import numpy as np

from pmm._calls import returned, scoped_apply, traced
from pmm._switch import CHECKS
from pmm._traced_shapes import answering_in_kind, traced_output_shape
from pmm.errors import label_origin
from pmm.shapes import validate_shape
from pmm.typing import Data, DataShape, HyperParams, Params, State

_REGISTRY: dict[str, type["Module"]] = {}


def register(cls: type["Module"], name: str | None = None) -> type["Module"]:
    """Make ``cls`` loadable under ``name`` (default: ``"module.QualName"``); returns ``cls``.

    Subclassing ``Module`` registers a class already; call this to add another name, e.g. after
    moving a class to a new module while keeping old files loadable.
    """
    _REGISTRY[name or registry_name(cls)] = cls
    return cls


def registry_name(cls: type["Module"]) -> str:
    """The stable name ``cls`` is saved under: ``pmm.<Class>`` for built-ins, else the
    ``register_as`` class keyword, else ``"<module>.<QualName>"``."""
    explicit = cls.__dict__.get("_registry_name")
    if explicit:
        return explicit
    if cls.__module__ == "pmm" or cls.__module__.startswith("pmm."):
        return f"pmm.{cls.__qualname__}"
    return f"{cls.__module__}.{cls.__qualname__}"


def registered_class(name: str) -> type["Module"]:
    """The module class registered as ``name``; ``KeyError`` with the known names if none is."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(
            f"no pmm module class is registered as {name!r}; import the module that defines it "
            f"(or call pmm.register) first. Registered: {sorted(_REGISTRY)}"
        ) from None


def _freeze(value: Any, field: str) -> Any:
    """Lists become tuples (recursively) so specs stay hashable; arrays are refused.

    NumPy scalars (``np.int64(16)``, ``np.float32(0.5)``, ``np.bool_``) become the Python
    number they hold, so they are accepted wherever a Python one is. Every float NaN becomes the
    one object ``math.nan``, so that specs holding NaN equal their copies (tuples compare items
    by identity before ``==``, and ``nan != nan``).
    """
    if isinstance(value, np.generic) and value.dtype.kind in "biufc":
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return math.nan
    if isinstance(value, list | tuple):
        return tuple(_freeze(item, field) for item in value)
    if isinstance(value, jax.Array) or (hasattr(value, "__array__") and getattr(value, "ndim", 0)):
        raise ValueError(
            f"hyperparameter {field!r} is an array; modules hold configuration only, so give a "
            "number or a tuple, and put trainable values in params"
        )
    return value


@typing.dataclass_transform(frozen_default=True)
class Module(abc.ABC):
    """A frozen, hashable spec of hyperparameters, and the pure ``ModuleCallable`` they define.

    Declaring fields on a subclass makes it a frozen dataclass; decorating it with
    ``@dataclasses.dataclass(frozen=True)`` as well changes nothing. Subclasses write ``init`` and
    ``apply``; ``output_shape`` defaults to tracing both with ``jax.eval_shape`` (no FLOPs). A
    subclass is registered for loading under ``registry_name(cls)``; pass
    ``class Mine(pmm.Module, register_as="lab.Mine")`` to choose the name.

    Validate hyperparameters in ``__post_init__`` (call ``super().__post_init__()`` first) and
    raise ``ValueError`` naming the field. Abstract classes (with methods still abstract) are not
    registered: no file can hold one.

    Examples
    --------
    >>> import jax, jax.numpy as jnp, pmm
    >>> class Shift(pmm.Module):
    ...     offset: float = 1.0
    ...     def init(self, rng, input_shape):
    ...         return (), ()
    ...     def apply(self, params, data, training, state, rng):
    ...         return data + self.offset, state
    >>> Shift(2.0)((), jnp.zeros((3, 2)))[0].shape, Shift(2.0) == Shift(offset=2.0)
    ((3, 2), True)
    """

    #: Version of this class's hyperparameters, stored in saved files so that ``upgrade`` can
    #: convert the hyperparameters of files written by an older version.
    version: ClassVar[int] = 1

    def __init_subclass__(cls, register_as: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        dataclasses.dataclass(frozen=True, repr=False, eq=False)(cls)
        # Frozenness is inherited from Module.__setattr__ instead, so that decorating the class
        # with @dataclasses.dataclass(frozen=True) again can add its own without a conflict.
        for name in ("__setattr__", "__delattr__"):
            if name in cls.__dict__:
                delattr(cls, name)
        # Pinning the inherited repr, eq and hash keeps that second decoration from replacing them.
        cls.__repr__ = cls.__repr__
        cls.__eq__ = cls.__eq__
        cls.__hash__ = cls.__hash__
        override = cls.__dict__.get("output_shape")
        if override is not None and not getattr(override, "answers_in_kind", False):
            cls.output_shape = answering_in_kind(override)
        if register_as is not None:
            cls._registry_name = register_as
        if not _is_abstract(cls):
            register(cls)

    def __setattr__(self, name: str, value: Any) -> None:
        raise dataclasses.FrozenInstanceError(
            f"cannot assign to field {name!r}: pmm modules are frozen; for a changed copy use "
            f"dataclasses.replace(module, {name}=...)"
        )

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(
            f"cannot delete field {name!r}: pmm modules are frozen"
        )

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            value = _freeze(getattr(self, field.name), field.name)
            object.__setattr__(self, field.name, value)
            try:
                hash(value)
            except TypeError:
                raise ValueError(
                    f"hyperparameter {field.name!r} of {type(self).__name__} is not hashable "
                    f"({type(value).__name__}); give numbers, strings, tuples or modules"
                ) from None

    def __eq__(self, other: object) -> bool:
        """Equal when of the same class with equal fields (compared as one tuple, NaN-safe)."""
        if other is self:
            return True
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._compared() == other._compared()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        """The hash of the class and the fields, computed once per instance.

        Models are static arguments of jitted functions, so their hash is taken on every call.
        """
        try:
            return _HASHES[id(self)]
        except KeyError:
            cls = type(self)
            value = hash((cls.__module__, cls.__qualname__, self._compared()))
            _HASHES[id(self)] = value
            weakref.finalize(self, _HASHES.pop, id(self), None)
            return value

    def _compared(self) -> tuple[Any, ...]:
        fields = dataclasses.fields(self)  # type: ignore[arg-type]
        return tuple(getattr(self, field.name) for field in fields if field.compare)

    @property
    def hyperparams(self) -> HyperParams:
        """The dataclass fields by name; nested modules appear as modules."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_hyperparams(cls, hyperparams: HyperParams) -> Self:
        """Build the module back from ``hyperparams`` (the inverse of ``hyperparams``)."""
        return cls(**hyperparams)

    @classmethod
    def upgrade(cls, hyperparams: HyperParams, version: int) -> HyperParams:
        """Convert hyperparameters saved by ``version`` of this class to the current version.

        The default accepts them unchanged; override when a release renames or adds fields.
        """
        return hyperparams

    @abc.abstractmethod
    def init(self, rng: Any, input_shape: DataShape) -> tuple[Params, State]:
        """Build ``(params, state)`` for data of ``input_shape`` (no batch axis).

        A leaf of ``input_shape`` is a tuple of sizes (floating data of the default float
        dtype) or a ``jax.ShapeDtypeStruct`` (data of its dtype, e.g. integer ids).
        """

    @abc.abstractmethod
    def apply(
        self, params: Params, data: Data, training: bool, state: State, rng: Any
    ) -> tuple[Data, State]:
        """Compute ``(output, new_state)``; pure, and called through ``__call__``."""

    def children(self) -> tuple[tuple[Any, str, "Module"], ...]:
        """The modules whose params this module's params hold: ``(key, segment, child)`` each.

        ``key`` indexes this module's params (``None``: the child's params *are* this module's);
        ``segment`` names the child in module paths (``"Sequential[2]"``, see ``segment``). Leaf
        layers have none; combinators and composites list theirs (see ``pmm.parameter_paths``).
        """
        return ()

    def segment(self, key: Any) -> str:
        """How module paths name this module's child ``key``: ``Sequential[2]``, or the class name
        alone for the one child of a module whose params are the child's (``key`` is ``None``)."""
        name = type(self).__name__
        return name if key is None else f"{name}[{key!r}]"

    def output_shape(self, input_shape: DataShape) -> DataShape:
        """The shape of the output for input of ``input_shape``, found without computing.

        Traces ``init`` and ``apply`` with ``jax.eval_shape``. Sizes given as ``None`` are probed
        with two different sizes; output sizes that follow them are ``None`` too. The answer has
        the question's form: tuples for tuples, ``jax.ShapeDtypeStruct`` leaves (with the output
        dtypes) when ``input_shape`` holds any struct. An override that answers in sizes alone
        gets those dtypes added the same way.
        """
        validate_shape(input_shape)
        return traced_output_shape(self, input_shape)

    def _probe_params(self, input_shape: DataShape) -> tuple[Params, State]:
        """Params and state for the ``output_shape`` probe (traced inside ``jax.eval_shape``)."""
        # The key is made here, inside the trace: made outside, under jax.jit, it would enter
        # the caller's jaxpr.
        return self.init(jax.random.key(0), input_shape)

    def __call__(
        self,
        params: Params,
        data: Data,
        training: bool = False,
        state: State = (),
        rng: Any = None,
    ) -> tuple[Data, State]:
        """The ``ModuleCallable``: ``(params, data, training, state, rng) -> (data, state)``.

        Calls ``apply``; while this thread's shape checks are on, through
        ``pmm.checks.checked_call``; while JAX traces the data, inside the name scope of the
        module's path.
        """
        try:
            if training.__class__ is not bool and not isinstance(training, bool | np.bool_):
                raise TypeError(
                    f"training must be a Python bool, got {type(training).__name__} "
                    f"{getattr(training, 'dtype', '')}{list(getattr(training, 'shape', ()))}; "
                    "under jax.jit mark it static: jax.jit(model, static_argnums=2)"
                )
            if CHECKS.value:
                from pmm.checks import checked_call

                return checked_call(self, params, data, training, state, rng)
            if traced(data):
                result = scoped_apply(self, params, data, training, state, rng)
            else:
                result = self.apply(params, data, training, state, rng)
            if result.__class__ is tuple and len(result) == 2:
                return result
            return returned(self, result)  # raises, saying that apply returns (data, state)
        except Exception as error:
            label_origin(error, self)
            raise

    def __rshift__(self, other: "Module") -> "Module":
        """``a >> b`` is ``Sequential(a, b)``, flattening nested Sequentials."""
        from pmm.combinators import Sequential

        return Sequential.chain(self, other)

    def __repr__(self) -> str:
        """The class name and the fields that differ from their defaults, as Python that builds
        the same module (``eval(repr(m)) == m`` where the class names are imported)."""
        shown = [
            f"{field.name}={_source(getattr(self, field.name))}"
            for field in dataclasses.fields(self)  # type: ignore[arg-type]
            if field.repr and getattr(self, field.name) != _default(field)
        ]
        return f"{type(self).__name__}({', '.join(shown)})"


#: Each live module's hash by ``id``, kept beside the module so that it holds nothing but its
#: fields; an entry goes when its module does (see ``Module.__hash__``).
_HASHES: dict[int, int] = {}


def _source(value: Any) -> str:
    """``repr(value)``, except that non-finite floats read back (``float('nan')``)."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    if isinstance(value, complex) and not (math.isfinite(value.real) and math.isfinite(value.imag)):
        return f"complex({_source(value.real)}, {_source(value.imag)})"
    if isinstance(value, tuple):
        items = [_source(item) for item in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    return repr(value)


def _is_abstract(cls: type) -> bool:
    """Whether ``cls`` still has abstract methods (ABCMeta only records it after class creation)."""
    return any(
        getattr(getattr(cls, name, None), "__isabstractmethod__", False) for name in dir(cls)
    )


def _default(field: dataclasses.Field) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return dataclasses.MISSING


class Parameterless(Module):
    """Base of modules without params or state: ``init`` checks the input, returns ``((), ())``.

    The check is ``output_shape(input_shape)``, so a subclass that cannot take some input says so
    there, once, for ``init`` and ``output_shape`` alike.

    Examples
    --------
    >>> import jax, jax.numpy as jnp, pmm
    >>> class Square(pmm.Parameterless):
    ...     def apply(self, params, data, training, state, rng):
    ...         return data**2, state
    >>> Square().init(jax.random.key(0), (3,))
    ((), ())
    """

    def init(self, rng: Any, input_shape: DataShape) -> tuple[Params, State]:
        self.output_shape(input_shape)
        return (), ()

    def _probe_params(self, input_shape: DataShape) -> tuple[Params, State]:
        return (), ()  # not init: init asks output_shape, whose default probe asks this
