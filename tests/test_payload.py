"""PayloadStore reads: one dict per row, keys in column order, absent keys
left out, values copied so that callers may edit them."""

from __future__ import annotations

import numpy as np

from nbvec._payload import PayloadStore, columns_from_dicts

ROWS = [{"a": 1, "b": "x", "o": {"n": [1]}}, {"b": "y"}, {"o": None, "a": 3}, {}]


def store(payloads=ROWS) -> PayloadStore:
    out = PayloadStore(capacity=len(payloads))
    out.write(np.arange(len(payloads)), columns_from_dicts(payloads), replace=True)
    return out


def test_get_keeps_column_order_and_leaves_absent_keys_out():
    got = store().get([3, 2, 1, 0, 2])
    assert got == [{}, {"a": 3, "o": None}, {"b": "y"}, ROWS[0], {"a": 3, "o": None}]
    assert [list(p) for p in got] == [[], ["a", "o"], ["b"], ["a", "b", "o"], ["a", "o"]]
    assert store().get([]) == [] and PayloadStore(2).get([0, 1]) == [{}, {}]


def test_get_when_every_row_has_every_key():
    dense = store([{"a": i, "b": str(i)} for i in range(5)])
    assert dense.get(np.array([4, 0])) == [{"a": 4, "b": "4"}, {"a": 0, "b": "0"}]


def test_got_payloads_are_copies_even_of_a_row_asked_twice():
    s = store()
    first, again = s.get([0, 0])
    first["o"]["n"].append(2)
    first["a"] = 9
    unchanged = {"a": 1, "b": "x", "o": {"n": [1]}}
    assert ROWS[0] == unchanged  # the store copied what it was given
    assert again == unchanged and s.get([0]) == [unchanged] and first is not again
