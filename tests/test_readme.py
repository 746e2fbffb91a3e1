"""The README's examples run as written, and print what the README says they print.

Blocks fenced as ```python run (each in a fresh namespace, in a temporary directory); a
```text block right after one is its expected output. Blocks fenced as ```py are excerpts, shown
only.
"""

import contextlib
import io
import pathlib
import re

import pytest

README = pathlib.Path(__file__).parents[1] / "README.md"
EXAMPLES = re.findall(
    r"```python\n(.*?)```\n(?:\s*```text\n(.*?)```)?", README.read_text(), flags=re.DOTALL
)


@pytest.mark.parametrize(
    ("code", "expected"), EXAMPLES, ids=[f"block{i}" for i in range(len(EXAMPLES))]
)
def test_readme_example_runs_and_prints_what_it_shows(code, expected, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    if expected:
        assert printed.getvalue() == expected
