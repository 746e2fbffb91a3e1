"""``pmm.make_train_step``: one optimizer step as a pure, jittable function, for your own loops.

``pmm.fit`` runs exactly this step inside its compiled epochs, so a hand-written loop gets the
same per-sample weighting and padding masks, the same treatment of complex params
(``pmm.conjugate_complex_grads``) and the same freezing (``trainable``) as ``fit``.
"""

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax.sharding import Mesh

from pmm.module import Module
from pmm.train import arguments
from pmm.train.complex import descent_direction
from pmm.train.losses import LossFn, checked_per_sample, resolve_loss
from pmm.train.sharding import batch_constraint
from pmm.train.trainable import Trainable, combine, partition, trainable_mask
from pmm.typing import Data, Params, State

#: ``fit``'s default optimizer, ``optax.adam(1e-3)``: one object, so that fits and steps built
#: with the default share their compiled programs.
DEFAULT_OPTIMIZER = optax.adam(1e-3)


class _FlagTree(NamedTuple):
    """A bool PyTree stored as its (hashable) structure and flags, so a step stays hashable."""

    structure: Any
    flags: tuple[bool, ...]

    def tree(self) -> Any:
        return jax.tree.unflatten(self.structure, self.flags)


@dataclasses.dataclass(frozen=True)
class TrainStep:
    """One optimizer step of ``model`` on a batch; build it with ``pmm.make_train_step``.

    Pure and hashable: ``jax.jit(step)`` compiles it, and the same settings give equal steps.
    ``init(params)`` builds the optimizer state; calling the step returns new params, state,
    optimizer state and the batch loss. ``update`` is the same step on params already split into
    trainable and frozen halves (what ``fit`` carries through its epochs); ``evaluate`` is the
    batch loss in evaluation mode.
    """

    model: Module
    loss: LossFn
    optimizer: optax.GradientTransformation
    trainable: Any = None  # None, a predicate on pmm.ParamPath, or a _FlagTree
    mesh: Mesh | None = None

    def mask(self, params: Params) -> Any:
        """A bool per params leaf: ``True`` where the step trains it."""
        trainable = self.trainable
        return trainable_mask(
            self.model, params, trainable.tree() if isinstance(trainable, _FlagTree) else trainable
        )

    def init(self, params: Params) -> optax.OptState:
        """The optimizer state for ``params``' trainable leaves (``None`` at frozen ones)."""
        trained, _ = partition(params, self.mask(params))
        return self.optimizer.init(trained)

    def __call__(
        self,
        params: Params,
        state: State,
        opt_state: optax.OptState,
        x: Data,
        y: Data,
        rng: Any = None,
        weight: jax.Array | None = None,
    ) -> tuple[Params, State, optax.OptState, jax.Array]:
        """One step on the batch ``x``, ``y``: ``(params, state, opt_state, loss)``.

        ``weight`` (shape ``(batch,)``) scales each sample's loss; the batch loss is
        ``sum(weight * per_sample_loss)``. ``None`` means ``1 / batch`` each, the plain mean.
        For a batch padded to a fixed size, give the padding weight 0 and the real samples
        ``1 / real_count``; for per-sample weights ``w``, ``w / w.sum()``. ``rng`` goes to the
        model (needed by stochastic modules such as ``Dropout``). Frozen leaves come back
        unchanged. ``loss`` is the batch loss before the step, in at least float32.
        """
        trained, frozen = partition(params, self.mask(params))
        weight = self._weight(x, weight)
        trained, state, opt_state, loss = self.update(
            trained, frozen, state, opt_state, x, y, weight, rng
        )
        return combine(trained, frozen), state, opt_state, loss

    def update(
        self,
        trained: Any,
        frozen: Any,
        state: State,
        opt_state: optax.OptState,
        x: Data,
        y: Data,
        weight: jax.Array,
        rng: Any,
    ) -> tuple[Any, State, optax.OptState, jax.Array]:
        """The step on params split by ``pmm.train.trainable.partition``: ``(trained, state,
        opt_state, loss)``, ``weight`` as in ``__call__`` but required."""
        x, y, weight = batch_constraint(self.mesh)((x, y, weight))

        def batch_loss(trained: Any) -> tuple[jax.Array, State]:
            return self._loss(combine(trained, frozen), state, x, y, weight, rng, training=True)

        (loss, state), grads = jax.value_and_grad(batch_loss, has_aux=True)(trained)
        updates, opt_state = self.optimizer.update(descent_direction(grads), opt_state, trained)
        return optax.apply_updates(trained, updates), state, opt_state, loss

    def evaluate(
        self, params: Params, state: State, x: Data, y: Data, weight: jax.Array | None = None
    ) -> jax.Array:
        """The batch loss in evaluation mode (``training=False``, no key), weighted as in
        ``__call__``; the model state it returns is dropped."""
        x, y, weight = batch_constraint(self.mesh)((x, y, self._weight(x, weight)))
        return self._loss(params, state, x, y, weight, None, training=False)[0]

    def _loss(self, params, state, x, y, weight, rng, training: bool):
        pred, state = self.model(params, x, training, state, rng)
        values = checked_per_sample(self.loss, pred, y, weight.shape[0])
        total = jnp.promote_types(values.dtype, jnp.float32)  # bfloat16 losses sum in float32
        return jnp.sum(weight.astype(total) * values.astype(total)), state

    @staticmethod
    def _weight(x: Data, weight: jax.Array | None) -> jax.Array:
        """``weight`` checked against the batch size of ``x``; ``None`` gives ``1 / batch``."""
        batch = jax.tree.leaves(x)[0].shape[0]
        if weight is None:
            return jnp.full((batch,), 1 / batch, jnp.result_type(float))
        weight = jnp.asarray(weight)
        if weight.shape != (batch,) or not jnp.issubdtype(weight.dtype, jnp.floating):
            raise ValueError(
                f"weight must be a float array of shape ({batch},), one per sample of the "
                f"batch, got shape {weight.shape} dtype {weight.dtype}"
            )
        return weight


def make_train_step(
    model: Module,
    loss: str | LossFn = "mse",
    optimizer: optax.GradientTransformation | None = None,
    *,
    trainable: Trainable | None = None,
    mesh: Mesh | None = None,
) -> TrainStep:
    """A pure train step for a hand-written loop: ``fit``'s step, without ``fit``'s loop.

    Parameters
    ----------
    model
        The model, called as ``model(params, x, True, state, rng)``.
    loss
        A named loss (``pmm.train.losses.LOSSES``) or ``loss(pred, y) -> (batch,)`` real values.
    optimizer
        An optax ``GradientTransformation``; default ``optax.adam(1e-3)``. Complex gradients
        are conjugated before it (``pmm.conjugate_complex_grads``), so do not chain that in.
    trainable
        Which params to train, as in ``pmm.fit``: a bool PyTree over params (or a prefix of it)
        or a predicate on each leaf's ``pmm.ParamPath``. Frozen leaves get no optimizer state.
    mesh
        A ``jax.sharding.Mesh``: each batch is split over its ``"data"`` axis (as in ``fit``).

    Returns
    -------
    TrainStep
        ``step.init(params) -> opt_state`` and ``step(params, state, opt_state, x, y, rng=None,
        weight=None) -> (params, state, opt_state, loss)``: pure, so ``jax.jit(step)`` compiles
        it (donate the carried arguments with ``donate_argnums=(0, 1, 2)`` to update in place).
        ``x`` and ``y`` are one batch, ``(batch, ...)`` per leaf; ``loss`` is a scalar.

    Examples
    --------
    >>> import jax, jax.numpy as jnp, optax, pmm
    >>> model = pmm.nn.Linear(features=1)
    >>> params, state = model.init(jax.random.key(0), (2,))
    >>> train_step = pmm.make_train_step(model, "mse", optax.adam(0.1))
    >>> opt_state = train_step.init(params)
    >>> step = jax.jit(train_step)
    >>> x = jax.random.normal(jax.random.key(1), (32, 2)); y = x @ jnp.array([[2.0], [-1.0]])
    >>> for _ in range(300):
    ...     params, state, opt_state, loss = step(params, state, opt_state, x, y)
    >>> print(f"{float(loss):.4f}", jnp.round(params["weight"].ravel(), 2))
    0.0000 [ 2. -1.]
    """
    if trainable is not None and not callable(trainable):
        flags, structure = jax.tree_util.tree_flatten_with_path(trainable)
        trainable = _FlagTree(
            structure,
            tuple(
                arguments.flag(flag, f"trainable{jax.tree_util.keystr(path)}")
                for path, flag in flags
            ),
        )
    return TrainStep(
        model=arguments.module(model),
        loss=resolve_loss(loss),
        optimizer=arguments.optimizer(optimizer, DEFAULT_OPTIMIZER),
        trainable=trainable,
        mesh=arguments.mesh(mesh),
    )
