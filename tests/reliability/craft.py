"""Building damaged and hostile files, and asserting that loading them is refused.

The members of a zip, a rewritten header or array, a sample model file; ``raw_zip`` and
``overlapping_zip`` write the zip format by hand (stored members, correct CRCs) so that a test can
declare sizes and offsets no honest writer would; everything else goes through ``zipfile``.
"""

import io
import json
import struct
import zipfile
import zlib

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import pmm
from pmm.train.checkpoint import load_checkpoint, save_checkpoint
from tests.modules import Counter, Dense, Scale

_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_END = struct.Struct("<4sHHHHIIH")


def members(path):
    """``{member name: bytes}`` of the zip file at ``path``."""
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_members(path, contents, compression=zipfile.ZIP_STORED):
    """Write ``contents`` (``{name: bytes}``) as a zip file at ``path``; returns ``path``."""
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    return path


def npy(array, allow_pickle=False):
    """The ``.npy`` bytes of ``array``."""
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def npy_prefix(dtype, shape):
    """The ``.npy`` magic and header of an array of ``dtype`` and ``shape``, without data."""
    buffer = io.BytesIO()
    header = {"descr": np.dtype(dtype).str, "fortran_order": False, "shape": tuple(shape)}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


def header_json(contents):
    """The JSON header held by ``contents["header.npy"]``."""
    return json.loads(np.load(io.BytesIO(contents["header.npy"])).tobytes())


def header_npy(header):
    """``header.npy`` bytes holding the JSON ``header`` (any JSON value)."""
    return npy(np.frombuffer(json.dumps(header).encode(), np.uint8))


def with_header(path, edit):
    """Rewrite the file at ``path`` after ``edit(header)`` changed its JSON header in place."""
    contents = members(path)
    header = header_json(contents)
    edit(header)
    contents["header.npy"] = header_npy(header)
    return write_members(path, contents)


def raw_zip(entries):
    """Zip bytes of ``entries``: ``(name, data, declared_size)`` each, stored one after another.

    ``declared_size`` (``None``: the true size) is what the local and central headers claim.
    """
    body, directory = b"", b""
    for name, data, declared in entries:
        size = len(data) if declared is None else declared
        directory += _central(name.encode(), zlib.crc32(data), size, len(body))
        body += _local(name.encode(), zlib.crc32(data), size) + data
    end = _END.pack(b"PK\x05\x06", 0, 0, len(entries), len(entries), len(directory), len(body), 0)
    return body + directory + end


def _local(name, crc, size):
    return _LOCAL.pack(b"PK\x03\x04", 20, 0, 0, 0, 33, crc, size, size, len(name), 0) + name


def _central(name, crc, size, offset):
    fields = (b"PK\x01\x02", 20, 20, 0, 0, 0, 33, crc, size, size, len(name), 0, 0, 0, 0, 0, offset)
    return _CENTRAL.pack(*fields) + name


def overlapping_zip(header, names, shared):
    """Zip bytes in which member ``names[k]`` holds, as its data, every member after it.

    Each member is a valid ``.npy`` ``uint8`` array (so its size grows with the members it
    swallows): a reader that does not refuse overlapping members allocates about
    ``len(names) * shared`` bytes from a file of about ``shared + 200 * len(names)`` bytes.
    ``header(sizes)`` gives the JSON header (``sizes``: each member's array length), written as
    an ordinary first member. Returns the zip bytes.
    """
    sizes, crcs, chain = {}, {}, bytes(shared)  # chain: what the last member's array holds
    for name in reversed(names):
        sizes[name] = len(chain)
        member = npy_prefix(np.uint8, (len(chain),)) + chain
        crcs[name] = (zlib.crc32(member), len(member))
        chain = _local(name.encode(), *crcs[name]) + member
    first = header_npy(header(sizes))
    body = _local(b"header.npy", zlib.crc32(first), len(first)) + first
    directory = _central(b"header.npy", zlib.crc32(first), len(first), 0)
    offset = len(body)
    for name in names:
        directory += _central(name.encode(), *crcs[name], offset)
        offset += _LOCAL.size + len(name.encode()) + len(npy_prefix(np.uint8, (sizes[name],)))
    body += chain
    count = len(names) + 1
    return (
        body
        + directory
        + _END.pack(b"PK\x05\x06", 0, 0, count, count, len(directory), len(body), 0)
    )


#: A small model with params and state, saved by ``save_sample``.
SAMPLE = pmm.Sequential(Scale(2.0), Dense(features=2), Counter())


def save_sample(path):
    """Save ``SAMPLE`` to ``path`` with ``input_shape=(3,)``; returns ``path``."""
    params, state = SAMPLE.init(jax.random.key(0), (3,))
    pmm.save(path, SAMPLE, params, state, input_shape=(3,))
    return path


def put_array(path, name, array, recorded=False):
    """Store ``array`` as member ``<name>.npy`` of the file at ``path``; with ``recorded``, make
    the header's record of ``name`` agree with it (so only checks beyond the record catch it)."""
    contents = members(path)
    contents[f"{name}.npy"] = npy(array)
    if recorded:
        header = header_json(contents)
        header["arrays"][name].update(shape=list(array.shape), dtype=array.dtype.name)
        contents["header.npy"] = header_npy(header)
    return write_members(path, contents)


def refused(load, path, reason):
    """Assert that ``load(path)`` raises ``pmm.LoadError`` matching ``reason`` and naming
    ``path``; returns the message."""
    with pytest.raises(pmm.LoadError, match=reason) as caught:
        load(path)
    assert str(path) in str(caught.value)
    return str(caught.value)


_PARAMS = {"w": jnp.arange(6.0).reshape(3, 2), "b": jnp.zeros(2)}
#: A training state (params, optimizer state, a counter) and history, saved by
#: ``save_sample_checkpoint`` with the key ``jax.random.key(7)``.
CHECKPOINT_STATE = (_PARAMS, optax.adam(1e-2).init(_PARAMS), jnp.int32(4))
CHECKPOINT_HISTORY = {
    "loss": np.linspace(1.0, 0.5, 4, dtype=np.float32),
    "val_loss": np.ones(4, np.float32),
}


def save_sample_checkpoint(path, setup):
    """Save the sample training state to ``path`` as a run of ``setup``; returns ``path``."""
    save_checkpoint(path, CHECKPOINT_STATE, jax.random.key(7), CHECKPOINT_HISTORY, setup)
    return path


def load_sample_checkpoint(path, setup):
    """``load_checkpoint`` of the sample training state from ``path`` for a run of ``setup``."""
    return load_checkpoint(path, CHECKPOINT_STATE, setup)
