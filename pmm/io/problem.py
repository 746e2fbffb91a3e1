"""``FileProblem``: why a file cannot be loaded, raised deep inside the reader.

``pmm.load`` and ``load_checkpoint`` catch it at the top and raise ``pmm.LoadError`` naming the
file, so the code that finds a problem only has to say what it is.
"""

#: Longest reason a ``LoadError`` shows; longer ones (huge reprs from a hostile header) are cut.
_LONGEST_REASON = 2000


class FileProblem(Exception):
    """Why a file cannot be loaded; the caller reraises it as ``LoadError`` naming the file."""


def shortened(reason: str) -> str:
    """``reason`` cut to a readable length: its start and end, with ``...`` between.

    Examples
    --------
    >>> len(shortened("x" * 10_000)) < 2100
    True
    """
    if len(reason) <= _LONGEST_REASON:
        return reason
    half = _LONGEST_REASON // 2
    return f"{reason[:half]} ... {reason[-half:]}"
