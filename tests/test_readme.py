"""The examples of the README and the guides in docs/ run as written, and print what they show.

Blocks fenced as ```python run (each in a fresh namespace, in a temporary directory); a
```text block right after one is its expected output. Blocks fenced as ```py are excerpts, shown
only.
"""

import contextlib
import io
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).parents[1]
#: The documents whose examples run: the README and the user guides that hold runnable blocks.
DOCUMENTS = ("README.md", "docs/layers.md")
EXAMPLES = {
    f"{document}-block{index}": block
    for document in DOCUMENTS
    for index, block in enumerate(
        re.findall(
            r"```python\n(.*?)```\n(?:\s*```text\n(.*?)```)?",
            (ROOT / document).read_text(),
            flags=re.DOTALL,
        )
    )
}


@pytest.mark.parametrize(("code", "expected"), EXAMPLES.values(), ids=list(EXAMPLES))
def test_readme_example_runs_and_prints_what_it_shows(code, expected, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    if expected:
        assert printed.getvalue() == expected
