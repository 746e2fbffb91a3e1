"""The scripts in examples/ run end to end in their smoke mode."""

import importlib.util
import pathlib

import pytest

EXAMPLES = pathlib.Path(__file__).parent.parent / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_conv_pmm_digits_prints_its_table_and_writes_its_figure(tmp_path, capsys):
    pytest.importorskip("sklearn", reason="the examples extra: pip install -e .[examples]")
    table = _load("conv_pmm_digits").main(["--smoke", "--output", str(tmp_path)])
    assert "| Conv + AO-PMM head |" in table and "| Conv + dense head |" in table
    assert table in capsys.readouterr().out
    assert (tmp_path / "conv_pmm_digits.png").stat().st_size > 10_000
