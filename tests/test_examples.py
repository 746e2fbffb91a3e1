"""The examples run end to end in their smoke mode (seconds), as a reader would run them."""

import importlib.util
import pathlib

import pytest

EXAMPLES = pathlib.Path(__file__).parent.parent / "examples"


def load_example(name):
    """Import ``examples/<name>.py`` as a module (the examples are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(f"examples.{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
def test_conv_pmm_digits_prints_its_table_and_writes_its_figure(tmp_path, capsys):
    pytest.importorskip("sklearn", reason="the examples extra: pip install -e .[examples]")
    table = load_example("conv_pmm_digits").main(["--smoke", "--output", str(tmp_path)])
    assert "| Conv + AO-PMM head |" in table and "| Conv + dense head |" in table
    assert table in capsys.readouterr().out
    assert (tmp_path / "conv_pmm_digits.png").stat().st_size > 10_000
