"""examples/conformal_ising.py runs end to end in its smoke mode."""

import pytest

from tests.test_examples import load_example


@pytest.mark.slow
def test_the_conformal_example_runs_in_smoke_mode(tmp_path, capsys):
    table = load_example("conformal_ising").main(["--smoke", "--output", str(tmp_path)])
    out = capsys.readouterr().out
    assert table in out and "not exchangeable" in out
    rows = [line for line in table.splitlines() if line.startswith("| absolute") or
            line.startswith("| normalized")]  # fmt: skip
    assert len(rows) == 4
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert 0 <= float(cells[2]) <= 1 and 0 <= float(cells[4]) <= 1
    saved = {path.name for path in tmp_path.iterdir()}
    assert {"ising_aepmm.pmm", "calibration_absolute.pmmc", "calibration_normalized.pmmc"} <= saved
    assert "ising_conformal.png" in saved
