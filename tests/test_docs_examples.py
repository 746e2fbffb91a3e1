"""The examples of the guides in docs/ run as written and print what the guides show.

As in ``test_readme.py``: blocks fenced as ```python run, a ```text block right after one is its
expected output. A guide's blocks run in order in one namespace, as a reader would type them.
"""

import contextlib
import io
import pathlib
import re

import pytest

DOCS = pathlib.Path(__file__).parents[1] / "docs"
#: Every page of the site with Python examples (the examples gallery pages only include scripts).
GUIDES = sorted(
    str(page.relative_to(DOCS)) for page in DOCS.rglob("*.md") if "```python" in page.read_text()
)


@pytest.mark.parametrize("guide", GUIDES)
def test_guide_examples_run_and_print_what_they_show(guide, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = (DOCS / guide).read_text()
    blocks = re.findall(r"```python\n(.*?)```\n(?:\s*```text\n(.*?)```)?", text, flags=re.DOTALL)
    assert blocks
    namespace = {"__name__": "guide"}
    for code, expected in blocks:
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(code, guide, "exec"), namespace)
        if expected:
            assert printed.getvalue() == expected
