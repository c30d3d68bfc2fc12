"""The distance rules' normalization: unit rows (zero rows stay zero), and one
query alone normalized to the same bits as in a batch, which keeps a query's
scores equal to the bit whether it is searched alone or in a batch."""

from __future__ import annotations

import numpy as np

from nbvec._distance import normalize_rows


def test_rows_come_out_unit_and_zero_rows_stay_zero():
    rng = np.random.default_rng(3)
    x = (rng.normal(size=(500, 37)) * rng.uniform(1e-6, 1e6, size=(500, 1))).astype(np.float32)
    x[7] = 0
    unit = normalize_rows(x)
    assert unit.dtype == np.float32 and not unit[7].any()
    rest = np.delete(x, 7, 0).astype(np.float64)
    want = rest / np.linalg.norm(rest, axis=1, keepdims=True)
    np.testing.assert_allclose(np.delete(unit, 7, 0), want, atol=1e-6)


def test_one_row_alone_gets_the_bits_it_gets_in_a_batch():
    rng = np.random.default_rng(4)
    x = (rng.normal(size=(2000, 37)) * rng.uniform(1e-6, 1e6, size=(2000, 1))).astype(np.float32)
    x[11] = 0
    batch = normalize_rows(x)
    for i in range(len(x)):
        assert normalize_rows(x[i: i + 1]).tobytes() == batch[i: i + 1].tobytes(), i
