"""Seeded mutations of files, and what loading each mutant gave.

``byte_mutations`` damages the bytes (flips, truncations, insertions, deletions, zeroed and
repeated ranges); ``header_mutations`` rewrites one node of the JSON header with a value of
another type, removes it or adds a stray key, keeping the zip itself sound (as a crafted file
would). ``tally`` loads every mutant and counts the outcomes: ``"error"`` (``pmm.LoadError``
naming the file), ``"same"`` (the original content), ``"other"`` (another valid content, which
only a header edit can give); anything else is recorded as ``"unexpected: ..."``.

``python -m tests.reliability.fuzzing`` prints the tallies of the reliability suite's fuzz runs.
"""

import collections
import copy
import io
import json
import random

import pmm
from tests.reliability import craft

#: Values a header node is replaced with: every JSON type, and pieces of valid headers.
REPLACEMENTS = (
    None,
    True,
    0,
    -1,
    1.5,
    2**70,
    "",
    "float32",
    [],
    [1, None],
    ["float32"],
    {},
    {"tuple": []},
    {"array": "params/0"},
    {"dict": {"a": None}},
    {"shape": [3]},
    {"struct": {"shape": [3], "dtype": "int32"}},
    {"module": {}},
    {"float": "nan"},
    [[[]]],
)


def byte_mutations(data, seed, count):
    """``count`` damaged copies of ``data``: ``(kind, bytes)`` each, seeded."""
    rng = random.Random(seed)
    kinds = ("flip", "truncate", "insert", "delete", "zero", "repeat")
    for index in range(count):
        kind, at = kinds[index % len(kinds)], rng.randrange(len(data))
        span = rng.choice((1, 2, 4, 8, 64, 512))
        if kind == "flip":
            mutant = bytearray(data)
            for _ in range(rng.randint(1, 8)):
                mutant[rng.randrange(len(data))] ^= rng.randint(1, 255)
            mutant = bytes(mutant)
        elif kind == "truncate":
            mutant = data[:at]
        elif kind == "insert":
            mutant = data[:at] + rng.randbytes(span) + data[at:]
        elif kind == "delete":
            mutant = data[:at] + data[at + span :]
        elif kind == "zero":
            mutant = data[:at] + bytes(len(data[at : at + span])) + data[at + span :]
        else:
            mutant = data[:at] + data[at : at + span] * 2 + data[at + span :]
        yield kind, mutant


def header_mutations(header, seed, count):
    """``count`` edited copies of the JSON ``header``: ``(kind, header)`` each, seeded."""
    rng = random.Random(seed)
    places = list(_places(header, ()))
    for _ in range(count):
        place = rng.choice(places)
        mutant = copy.deepcopy(header)
        parent = mutant
        for key in place[:-1]:
            parent = parent[key]
        kind = rng.choice(("replace", "replace", "replace", "remove", "add"))
        if kind == "remove" and isinstance(parent, dict):
            del parent[place[-1]]
        elif kind == "add" and isinstance(parent[place[-1]], dict):
            parent[place[-1]]["stray"] = rng.choice(REPLACEMENTS)
        else:
            kind = "replace"
            parent[place[-1]] = copy.deepcopy(rng.choice(REPLACEMENTS))
        yield f"{kind} {'/'.join(map(str, place))}", mutant


def _places(node, where):
    """Every key path in a JSON value, below its root."""
    children = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in children:
        yield (*where, key)
        yield from _places(child, (*where, key))


def tally(path, mutants, load, same):
    """Outcome counts of ``load(path)`` for each ``(kind, bytes)`` mutant written to ``path``."""
    counts = collections.Counter()
    for kind, data in mutants:
        path.write_bytes(data)
        try:
            result = load(path)
        except pmm.LoadError as error:
            counts["error" if str(path) in str(error) else f"unexpected: unnamed {error}"] += 1
        except Exception as error:  # every other exception is a finding
            counts[f"unexpected: {kind}: {type(error).__name__}: {error}"] += 1
        else:
            counts["same" if same(result) else "other"] += 1
    return counts


def with_header_bytes(contents, header):
    """The zip bytes of ``contents`` with ``header`` as ``header.npy``."""
    buffer = io.BytesIO()
    craft.write_members(buffer, {**contents, "header.npy": craft.header_npy(header)})
    return buffer.getvalue()


def header_mutants(path, seed, count):
    """``(kind, bytes)`` for ``count`` header edits of the file at ``path``."""
    contents = craft.members(path)
    header = craft.header_json(contents)
    for kind, mutant in header_mutations(header, seed, count):
        yield kind, with_header_bytes(contents, mutant)


if __name__ == "__main__":
    from tests.reliability import test_fuzz

    for name, counts in test_fuzz.all_tallies().items():
        print(f"{name}: {sum(counts.values())} tried, {json.dumps(dict(counts))}")
