"""Incident ids and their 64-bit keys: stable content hashes for rows without an id (police.uk
ASB, generic files without an id column), hex rendering, and the fast keys used to find duplicate
incident ids (equal ids have equal keys; callers re-check equal keys exactly)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

_PRIME = np.uint64(0x100000001B3)
_MIX = np.uint64(0x9E3779B97F4A7C15)


def hash_values(values: np.ndarray) -> np.ndarray:
    """Stable 64-bit hash of each string (pandas' SipHash with its fixed key)."""
    return pd.util.hash_array(np.asarray(values, dtype=object), categorize=False)


def combine(h: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Order-dependent combination of two uint64 hash arrays (FNV-style, wrapping)."""
    out = np.bitwise_xor(h, other)
    out *= _PRIME  # (in place: one new array instead of four)
    out ^= other >> np.uint64(29)
    return out


def id_keys(ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """64-bit keys of id strings: equal ids have equal keys; different ids rarely do (callers
    re-check equal keys exactly).

    Vectorised over the Arrow buffers: the key mixes each string's length with its first and last
    8 bytes (for police.uk's 64-hex Crime IDs, 128 random bits). Empty ids get key 0.
    """
    if isinstance(ids, pa.ChunkedArray):
        if ids.num_chunks == 0:
            return np.empty(0, dtype=np.uint64)
        return np.concatenate([id_keys(c) for c in ids.chunks])
    n = len(ids)
    if n == 0:
        return np.empty(0, dtype=np.uint64)
    if not pa.types.is_string(ids.type) or ids.null_count:
        return hash_values(np.asarray([v or "" for v in ids.to_pylist()], dtype=object))
    offsets = np.frombuffer(ids.buffers()[1], dtype=np.int32)[ids.offset: ids.offset + n + 1]
    buf = ids.buffers()[2]
    data = np.frombuffer(buf, dtype=np.uint8) if buf is not None and buf.size else np.zeros(1, np.uint8)
    bounds = offsets.astype(np.int64)
    start, end = bounds[:-1], bounds[1:]
    lens = end - start
    if len(data) < 8:
        w0, w1 = _head_tail_bytewise(data, start, end)
    else:
        w0, w1 = _head_tail_words(data, start, end, lens)
    out = combine(combine(lens.astype(np.uint64) * _MIX, w0), w1)
    out[lens == 0] = 0
    return out


# _LOW[k]: the low k bytes of a little-endian word (k = 0..8)
_LOW = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)


def _head_tail_words(data: np.ndarray, start: np.ndarray, end: np.ndarray,
                     lens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last 8 bytes of each string as little-endian words (bytes outside the string
    are 0), read as unaligned 64-bit words straight from the Arrow data buffer (one gather per
    word instead of eight byte gathers). Needs a buffer of at least 8 bytes."""
    top = len(data) - 8
    words = np.ndarray((top + 1,), dtype="<u8", buffer=data, strides=(1,))
    if not ((lens > 0) & (lens < 8)).any():  # no string shorter than a word (e.g. Crime IDs)
        return (words[np.minimum(start, top)].astype(np.uint64, copy=False),
                words[np.maximum(end - 8, 0)].astype(np.uint64, copy=False))
    # head: the word at the string's start (moved back for a short string at the buffer's end,
    # then shifted down), keeping only the string's own bytes
    at = np.minimum(start, top)
    head = words[at] >> (np.minimum(start - at, 7) * 8).astype(np.uint64)
    head &= _LOW[np.minimum(lens, 8)]
    # tail: the word ending at the string's end (moved forward for a string ending in the
    # buffer's first 8 bytes, then shifted up), with bytes before the string's start cleared
    at = np.maximum(end - 8, 0)
    tail = words[at] << (np.clip(8 - end, 0, 7) * 8).astype(np.uint64)
    tail &= ~_LOW[np.clip(8 - lens, 0, 8)]
    return head.astype(np.uint64, copy=False), tail.astype(np.uint64, copy=False)


def _head_tail_bytewise(data: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same words, byte by byte (for buffers shorter than one word)."""
    k = np.arange(8)
    head_idx = start[:, None] + k
    tail_idx = end[:, None] - 8 + k
    head_ok = head_idx < end[:, None]
    tail_ok = tail_idx >= start[:, None]
    top = len(data) - 1
    head = np.where(head_ok, data[np.clip(head_idx, 0, top)], 0).astype(np.uint8)
    tail = np.where(tail_ok, data[np.clip(tail_idx, 0, top)], 0).astype(np.uint8)
    return (np.ascontiguousarray(head).view("<u8").ravel().astype(np.uint64),
            np.ascontiguousarray(tail).view("<u8").ravel().astype(np.uint64))


# _HEX[b]: the two hex characters of byte b, as one 16-bit value (gathered as numbers, not bytes)
_HEX = np.frombuffer(b"".join(f"{i:02x}".encode() for i in range(256)), dtype=np.uint16)


def hex16(h: np.ndarray) -> np.ndarray:
    """uint64 -> 16-character lower-case hex (numpy 'S16')."""
    b = np.asarray(h, dtype=np.uint64).astype(">u8").view(np.uint8).reshape(-1, 8)
    return np.ascontiguousarray(_HEX[b]).view("S16").ravel()


def fixed_strings(*parts: np.ndarray) -> pa.Array:
    """Arrow string array from fixed-width byte pieces laid side by side (no per-row Python):
    each part is (n, w) uint8 or a numpy 'S<w>' array of n items."""
    n = len(parts[0])
    if n == 0:
        return pa.array([], type=pa.string())
    mats = [p.view(np.uint8).reshape(len(p), -1) if p.dtype.kind == "S" else p for p in parts]
    data = np.ascontiguousarray(np.concatenate(mats, axis=1)) if n else np.empty((0, 1), np.uint8)
    width = data.shape[1]
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def occurrence(keys: np.ndarray) -> np.ndarray:
    """1-based occurrence number of each key among equal keys, in array order (1, 1, 2, 1, 3...).

    Equal keys are numbered by hashing (codes in order of first appearance), then the rows are
    grouped by code with numpy's stable radix sort on 16-bit digits (linear time, where sorting
    the 64-bit keys themselves is a comparison sort)."""
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    codes, uniq = pd.factorize(keys)
    if len(uniq) == n:
        return np.ones(n, dtype=np.int64)
    codes = codes.astype(np.uint64)
    order = np.arange(n)
    for shift in range(0, max(int(len(uniq) - 1).bit_length(), 1), 16):  # least significant digit first
        digit = ((codes[order] >> np.uint64(shift)) & np.uint64(0xFFFF)).astype(np.uint16)
        order = order[np.argsort(digit, kind="stable")]
    k = codes[order]
    new = np.empty(n, dtype=bool)
    new[0] = True
    new[1:] = k[1:] != k[:-1]
    starts = np.flatnonzero(new)
    run = np.cumsum(new) - 1
    out = np.empty(n, dtype=np.int64)
    out[order] = np.arange(n) - starts[run] + 1
    return out
