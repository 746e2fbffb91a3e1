"""The examples run end to end in their smoke mode (seconds), as a reader would run them."""

import importlib.util
import os
import pathlib
import subprocess
import sys

import jax
import numpy as np
import pytest

import pmm

EXAMPLES = pathlib.Path(__file__).parent.parent / "examples"


def load_example(name):
    """Import ``examples/<name>.py`` as a module (the examples are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(f"examples.{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def table_rows(table):
    """The first cell of every body row of a Markdown table."""
    return [line.split("|")[1].strip() for line in table.splitlines()[2:]]


@pytest.fixture(scope="module")
def sequence_memory():
    return load_example("sequence_memory")


@pytest.mark.slow
def test_sequence_memory_smoke_run_prints_a_table_and_writes_the_plot(
    sequence_memory, tmp_path, capsys
):
    sequence_memory.main(["--smoke", "--output", str(tmp_path)])
    printed = capsys.readouterr().out
    for model in ("last token only", "GRU", "LSTM", "attention"):
        assert f"| {model} |" in printed
    assert (tmp_path / "sequence_memory.png").stat().st_size > 0


def test_the_memory_task_labels_each_sequence_by_its_first_token(sequence_memory):
    tokens, labels = sequence_memory.make_task(0, samples=50, length=7)
    assert tokens.shape == (50, 7) and (tokens[:, 0] == labels).all()
    assert (tokens[:, 1:] >= sequence_memory.CLASSES).all()


@pytest.mark.slow
def test_regression_from_scratch_reloads_its_custom_model_and_plots(tmp_path, capsys):
    example = load_example("regression_from_scratch")
    table = example.main(["--smoke", "--output", str(tmp_path)])
    assert table_rows(table) == ["FourierFeatures >> MLP", "MLP"]
    assert "bit-identical predictions" in capsys.readouterr().out
    model, params, _ = pmm.load(tmp_path / "regression_from_scratch.pmm")
    assert isinstance(model.layers[0], example.FourierFeatures)
    assert params[0]["frequency"].shape == (1, 16)
    assert (tmp_path / "regression_from_scratch.png").stat().st_size > 10_000


@pytest.mark.slow
def test_digits_classification_tabulates_every_contender(tmp_path, capsys):
    pytest.importorskip("sklearn", reason="the examples extra: pip install -e .[examples]")
    table = load_example("digits_classification").main(["--smoke", "--output", str(tmp_path)])
    assert table_rows(table) == ["AO-PMM", "MLP", "CNN"]
    printed = capsys.readouterr().out
    assert table in printed and "97.38% on MNIST" in printed
    assert (tmp_path / "digits_classification.png").stat().st_size > 10_000


@pytest.mark.slow
def test_ensembles_tabulates_the_band_inside_and_beyond_the_training_range(tmp_path):
    table = load_example("ensembles").main(["--smoke", "--output", str(tmp_path)])
    assert len(table_rows(table)) == 4 and "beyond" in table
    assert (tmp_path / "ensembles.png").stat().st_size > 10_000


def test_a_vmapped_ensemble_trains_each_member_as_if_alone():
    ensembles = load_example("ensembles")
    model = pmm.nn.MLP(hidden=(4,), features=1, activation="tanh")
    keys = jax.random.split(jax.random.key(3), 2)
    x = np.linspace(-1, 1, 16, dtype=np.float32)[:, None]
    options = {"x": x, "y": x**2, "epochs": 5, "learning_rate": 0.01}
    together, _, _ = ensembles.train_ensemble(model, keys, **options)
    for member, key in enumerate(keys):
        alone, _, _ = ensembles.train_ensemble(model, key[None], **options)
        for stacked, single in zip(jax.tree.leaves(together), jax.tree.leaves(alone), strict=True):
            np.testing.assert_allclose(stacked[member], single[0], rtol=1e-5, atol=1e-6)
    stacked = jax.tree.leaves(together)[0]
    assert not np.allclose(stacked[0], stacked[1])  # the members start, and end, apart


@pytest.mark.slow
def test_graph_model_prints_its_summary_and_table(tmp_path, capsys):
    table = load_example("graph_model").main(["--smoke", "--output", str(tmp_path)])
    printed = capsys.readouterr().out
    assert "Graph['skip'] > Concatenate()" in printed and table in printed
    assert len(table_rows(table)) == 4
    assert (tmp_path / "graph_model.png").stat().st_size > 10_000


def test_the_graph_example_loss_is_the_gaussian_negative_log_likelihood():
    graph_model = load_example("graph_model")
    mean, log_variance, y = np.float32(0.3), np.float32(-1.2), np.float32(1.1)
    prediction = {"mean": np.full((1, 1), mean), "log_variance": np.full((1, 1), log_variance)}
    variance = np.exp(log_variance)
    density = np.exp(-((y - mean) ** 2) / (2 * variance)) / np.sqrt(2 * np.pi * variance)
    expected = -np.log(density) - 0.5 * np.log(2 * np.pi)  # the loss drops the constant
    loss = graph_model.gaussian_nll(prediction, np.full((1, 1), y))
    np.testing.assert_allclose(loss, [expected], rtol=1e-6)


@pytest.mark.slow
def test_data_parallel_run_as_a_script_trains_on_four_devices(tmp_path):
    root = EXAMPLES.parent
    run = subprocess.run(
        [sys.executable, str(EXAMPLES / "data_parallel.py"), "--smoke", "--output", str(tmp_path)],
        capture_output=True,
        text=True,
        env=os.environ | {"JAX_PLATFORMS": "cpu", "PYTHONPATH": str(root)},
        cwd=root,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "| mesh of 4 devices |" in run.stdout
    assert (tmp_path / "data_parallel.png").stat().st_size > 10_000
    model, _, _ = pmm.load(tmp_path / "data_parallel.pmm")
    assert model == load_example("data_parallel").problem(smoke=True)[0]


@pytest.mark.slow
def test_conv_pmm_digits_prints_its_table_and_writes_its_figure(tmp_path, capsys):
    table = load_example("conv_pmm_digits").main(["--smoke", "--output", str(tmp_path)])
    assert "| Conv + AO-PMM head |" in table and "| Conv + dense head |" in table
    assert table in capsys.readouterr().out
    assert (tmp_path / "conv_pmm_digits.png").stat().st_size > 10_000
