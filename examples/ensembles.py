"""A deep ensemble in one program: ``jax.vmap`` over stacked params, the spread as a band.

A pmm module is a pure function of its params, so an ensemble needs no ensemble class: stack the
members' params along a new leading axis and ``jax.vmap`` what works on one member.

- ``jax.vmap(model.init)`` over a batch of keys builds every member's params at once;
- ``jax.vmap(pmm.make_train_step(...))`` trains them all in one step, and ``jax.lax.scan`` runs
  the epochs inside one compiled program (full batch: the members differ by their init);
- ``jax.vmap(model, in_axes=(0, None, None, 0, None))`` predicts with every member.

The task is the ground-state energy per site of the transverse-field Ising ring, ``E0(g)``, from
fields ``|g| <= 1`` (``pmm.demo.ising``), for an ensemble of MLPs and one of AE-PMMs. The band is
the ensemble mean plus or minus two standard deviations of the members. The table measures it
inside the training range and beyond it (``1 < |g| <= 2``): its width, and how often the truth
lies inside. An ensemble's spread shows where its members disagree; it is not a calibrated
interval (see ``examples/conformal_ising.py`` for one), and members that agree can all be wrong.

    python examples/ensembles.py            # about a minute on a laptop CPU
    python examples/ensembles.py --smoke    # seconds (the test suite)
"""

import argparse
import pathlib
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

import pmm
from pmm.demo.compare import format_table
from pmm.demo.ising import ground_state_energy


def train_ensemble(model, keys, x, y, epochs, learning_rate):
    """Train one copy of ``model`` per key of ``keys`` (its init); their params, stacked."""
    params, state = jax.vmap(lambda key: model.init(key, x.shape[1:]))(keys)
    train_step = pmm.make_train_step(model, "mse", optax.adam(learning_rate))
    opt_state = jax.vmap(train_step.init)(params)
    step = jax.vmap(train_step, in_axes=(0, 0, 0, None, None))  # one batch, every member

    @jax.jit
    def run(params, state, opt_state):
        def epoch(carry, _):
            params, state, opt_state, loss = step(*carry, x, y)
            return (params, state, opt_state), loss

        return jax.lax.scan(epoch, (params, state, opt_state), length=epochs)

    (params, state, _), losses = run(params, state, opt_state)
    return params, state, losses


def main(argv: Sequence[str] | None = None) -> str:
    """Train both ensembles; print and return the table of their bands."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    parser.add_argument("--members", type=int, default=8, help="ensemble size (8)")
    parser.add_argument("--output", type=pathlib.Path, default=pathlib.Path("."))
    args = parser.parse_args(argv)
    sites, epochs, members = (4, 50, 3) if args.smoke else (8, 4000, args.members)

    fields = np.linspace(-2.0, 2.0, 401, dtype=np.float32)
    truth = ground_state_energy(fields, sites).astype(np.float32)
    inside = np.abs(fields) <= 1.0
    training = inside & (np.arange(fields.size) % 5 == 0)
    x, y = jnp.asarray(fields[training, None]), jnp.asarray(truth[training, None])
    contenders = {
        "MLP": pmm.nn.MLP(hidden=(5, 5), features=1, activation="tanh"),
        "AE-PMM": pmm.AEPMM(matrix_size=4, num_eig=1, which="SA"),
    }

    rows, bands = [], {}
    for name, model in contenders.items():
        keys = jax.random.split(jax.random.key(0), members)
        params, state, _ = train_ensemble(model, keys, x, y, epochs, learning_rate=0.02)
        predict = jax.vmap(model, in_axes=(0, None, None, 0, None))
        predictions = np.asarray(predict(params, fields[:, None], False, state, None)[0])[..., 0]
        mean, spread = predictions.mean(axis=0), predictions.std(axis=0)
        bands[name] = (predictions, mean, spread)
        for region, mask in (("inside, held out", inside & ~training), ("beyond", ~inside)):
            error = mean[mask] - truth[mask]
            covered = np.abs(error) <= 2 * spread[mask]
            rows.append([
                name, region, f"{np.sqrt(np.mean(error**2)):.2e}",
                f"{spread[mask].mean():.2e}", f"{covered.mean():.0%}",
            ])  # fmt: skip

    header = ["model", "fields", "RMSE of the mean", "mean spread (std)", "truth in mean ± 2 std"]
    table = format_table(header, rows)
    print(f"Ensembles of {members}, trained on {training.sum()} fields with |g| <= 1 for {epochs}")
    print("full-batch epochs; held-out fields inside that range, and all beyond it:\n")
    print(table)
    args.output.mkdir(parents=True, exist_ok=True)
    plot(args.output / "ensembles.png", fields, truth, training, bands)
    return table


def plot(path, fields, truth, training, bands):
    """One panel per model: the members, their mean and the two-std band, against the truth."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(bands), figsize=(11, 4.5), sharey=True, layout="constrained")
    for axis, (name, (members, mean, spread)) in zip(axes, bands.items(), strict=True):
        axis.fill_between(fields, mean - 2 * spread, mean + 2 * spread, color="tab:orange",
                          alpha=0.35, label="mean ± 2 std of the members")  # fmt: skip
        axis.plot(fields, members.T, color="tab:orange", linewidth=0.6, alpha=0.6)
        axis.plot(fields, truth, color="black", linewidth=2, label="exact diagonalisation")
        axis.plot(fields, mean, "--", color="tab:blue", label="ensemble mean")
        axis.plot(fields[training], truth[training], ".", color="tab:blue", label="training")
        axis.axvspan(-1.0, 1.0, color="tab:blue", alpha=0.06, label="training range")
        axis.set(xlabel="transverse field $g$", title=f"{len(members)} {name}s")
    axes[0].set_ylabel("ground-state energy per site $E_0/N$")
    axes[0].legend(loc="lower center", fontsize=8)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
