"""The demo's figure: truth against each model, and their errors on a log scale."""

import pathlib

import numpy as np


def plot_comparison(
    path: pathlib.Path,
    fields: np.ndarray,
    truth: np.ndarray,
    predictions: dict[str, np.ndarray],
    train_range: tuple[float, float],
    title: str,
) -> None:
    """Write a two-panel PNG to ``path`` (needs matplotlib, the ``demo`` extra)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(7, 6.5), sharex=True, height_ratios=(2, 1), layout="constrained"
    )
    top.plot(fields, truth, color="black", linewidth=2.5, label="exact diagonalisation")
    for (name, prediction), style in zip(predictions.items(), ("--", ":"), strict=False):
        top.plot(fields, prediction, style, linewidth=2, label=name)
        bottom.semilogy(fields, np.abs(prediction - truth) + 1e-12, style, label=name)
    for axis in (top, bottom):
        axis.axvspan(*train_range, color="tab:blue", alpha=0.08, label="training range")
    top.set_ylabel("ground-state energy per site $E_0/N$")
    top.set_title(title)
    top.legend()
    bottom.set_ylabel("absolute error")
    bottom.set_xlabel("transverse field $g$")
    figure.savefig(path, dpi=120)
    plt.close(figure)
