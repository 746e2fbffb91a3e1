"""Conformal error bars for an AE-PMM emulator of the transverse-field Ising ring.

``python examples/conformal_ising.py`` (``--smoke`` for a run of seconds, ``--help`` for options)

1. Exact diagonalisation gives the ground-state energy per site ``E0(g)`` for fields ``g`` in
   [-2, 2] (``pmm.demo.ising``); the fields with ``|g| <= 1`` are the experiment's range.
2. Inputs and targets are scaled (``pmm.preprocessing.StandardScaler``): the AE-PMM is trained
   on scaled data with ``pmm.fit``, and ``x_scaler >> AE-PMM >> y_scaler.inverse()`` is one
   model from raw fields to raw energies, saved and reloaded as one file.
3. Held-out fields inside the range are split in two: a calibration half for
   ``pmm.conformal.calibrate`` and a test half. Two scores: ``"absolute"`` (one width
   everywhere) and ``"normalized"`` (the uncertainty heuristic, with the training inputs).
4. A table gives the coverage and mean width of the 80% and 90% bands on the test half and
   beyond the range (``1 < |g| <= 2``); a PNG plots the 90% bands against the exact curve.

What the guarantee covers: a new point drawn like the calibration points (exchangeable with
them) is inside its band with probability at least ``1 - alpha``. Fields beyond the training
range are not drawn like them, so there the bands promise nothing: the "absolute" band keeps
its in-range width and misses the extrapolation error; the "normalized" band widens with the
distance to the training data, which helps, but is a heuristic, not a guarantee.
"""

import argparse
import pathlib
import sys
from collections.abc import Sequence

import jax
import numpy as np

import pmm
from pmm.demo.compare import format_table, train_best
from pmm.demo.ising import ground_state_energy

ALPHAS = (0.2, 0.1)
SCORES = ("absolute", "normalized")


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python examples/conformal_ising.py",
        description="Conformal prediction bands for an AE-PMM emulating the Ising ring's E0(g).",
    )
    parser.add_argument("--sites", type=int, default=8, help="spins in the ring (default 8)")
    parser.add_argument("--matrix-size", type=int, default=4, help="AE-PMM matrix size (4)")
    parser.add_argument("--epochs", type=int, default=4000, help="full-batch epochs (4000)")
    parser.add_argument("--restarts", type=int, default=2, help="inits (2)")
    parser.add_argument("--seed", type=int, default=0, help="PRNG seed (0)")
    parser.add_argument(
        "--output", type=pathlib.Path, default=pathlib.Path("conformal_output"),
        help="directory for the plot and the saved files (conformal_output)",
    )  # fmt: skip
    parser.add_argument(
        "--smoke", action="store_true", help="a run of seconds: 4 spins, few epochs, one init"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.sites, args.epochs, args.restarts = 4, 60, 1
    return args


def main(argv: Sequence[str] | None = None) -> str:
    """Run the example; returns (and prints) the coverage table."""
    args = parse_arguments(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    fields = np.linspace(-2.0, 2.0, 401, dtype=np.float32)
    truth = ground_state_energy(fields, args.sites).astype(np.float32)
    x, y = fields[:, None], truth[:, None]
    inside = np.abs(fields) <= 1.0
    training = inside & (np.arange(fields.size) % 5 == 0)
    held_out = np.flatnonzero(inside & ~training)
    shuffled = np.random.default_rng(args.seed).permutation(held_out)
    calibration, test = np.sort(shuffled[::2]), np.sort(shuffled[1::2])
    beyond = np.flatnonzero(~inside)

    model, params, state = fit_scaled_aepmm(args, x[training], y[training])
    print(f"AE-PMM trained on {training.sum()} fields with |g| <= 1 (scaled inputs and targets).")
    path = args.output / "ising_aepmm.pmm"
    pmm.save(path, model, params, state, input_shape=(1,))
    model, params, state = pmm.load(path)
    print(f"Saved and reloaded {path}: one file, scalers included.\n")

    rows, bands = [], {}
    for score in SCORES:
        options = {"x_train": x[training]} if score == "normalized" else {}
        cal = pmm.conformal.calibrate(
            model, params, state, x[calibration], y[calibration], score, **options
        )
        pmm.conformal.save(args.output / f"calibration_{score}.pmmc", cal)
        lower, upper = (np.asarray(b)[..., 0] for b in pmm.conformal.interval(cal, x, ALPHAS))
        bands[score] = (lower[-1], upper[-1])
        for index, alpha in enumerate(ALPHAS):
            row = [score, f"{1 - alpha:.0%}"]
            for region in (test, beyond):
                covered = (lower[index, region] <= truth[region]) & (
                    truth[region] <= upper[index, region]
                )
                width = upper[index, region] - lower[index, region]
                row += [f"{covered.mean():.3f}", f"{width.mean():.2e}"]
            rows.append(row)
    # No "|" in a cell: it would split the Markdown table.
    header = ["score", "target", "coverage in range", "width in range", "coverage beyond",
              "width beyond"]  # fmt: skip
    table = format_table(header, rows)
    print(f"Calibrated on {calibration.size} held-out fields, tested on {test.size} others:\n")
    print(table)
    print(
        "\nThe guarantee holds for |g| <= 1, where test points are drawn like calibration "
        "points;\nbeyond the range it does not apply (extrapolation is not exchangeable)."
    )
    prediction = np.asarray(pmm.predict(model, params, state, x))[:, 0]
    _plot(args, fields, truth, prediction, bands, training)
    return table


def fit_scaled_aepmm(args: argparse.Namespace, x: np.ndarray, y: np.ndarray):
    """Train an AE-PMM on scaled data; return the raw-to-raw model, its params and state."""
    x_scaler, y_scaler = pmm.preprocessing.StandardScaler(), pmm.preprocessing.StandardScaler()
    (x_params, x_state), (y_params, y_state) = x_scaler.fit(x), y_scaler.fit(y)
    x_scaled = x_scaler(x_params, jax.numpy.asarray(x), False, x_state)[0]
    y_scaled = y_scaler(y_params, jax.numpy.asarray(y), False, y_state)[0]
    net = pmm.AEPMM(matrix_size=args.matrix_size, num_eig=1, which="SA")
    trained = train_best(
        "AE-PMM", net, np.asarray(x_scaled), np.asarray(y_scaled), restarts=args.restarts,
        epochs=args.epochs, learning_rate=0.02, seed=args.seed, progress=False,
    )  # fmt: skip
    model = x_scaler >> net >> y_scaler.inverse()
    return model, (x_params, trained.params, y_params), (x_state, trained.state, y_state)


def _plot(args, fields, truth, prediction, bands, training) -> None:
    try:
        import matplotlib
    except ImportError:
        print("Plot skipped: matplotlib is not installed (pip install 'pmm[demo]').")
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(bands), figsize=(11, 4.5), sharey=True, layout="constrained")
    for axis, (score, (lower, upper)) in zip(axes, bands.items(), strict=True):
        axis.fill_between(fields, lower, upper, color="tab:orange", alpha=0.35,
                          label=f"90% conformal band ({score})")  # fmt: skip
        axis.plot(fields, truth, color="black", linewidth=2, label="exact diagonalisation")
        axis.plot(fields, prediction, "--", color="tab:blue", label="AE-PMM")
        axis.plot(fields[training], truth[training], ".", color="tab:blue", label="training")
        axis.axvspan(-1.0, 1.0, color="tab:blue", alpha=0.06, label="training range")
        axis.set_xlabel("transverse field $g$")
        axis.set_title(f"score = {score!r}")
    axes[0].set_ylabel("ground-state energy per site $E_0/N$")
    axes[0].legend(loc="lower center", fontsize=8)
    path = args.output / "ising_conformal.png"
    figure.savefig(path, dpi=110)
    plt.close(figure)
    print(f"Plot: {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
