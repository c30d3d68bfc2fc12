"""numpy and pandas values as plain Python ones, as filters take them from
notebooks (``df.year.max()``, ``np.array([...])``, ``pd.Timestamp``).

>>> import numpy as np, pandas as pd
>>> plain_value(np.int64(3)), plain_value(np.array(["a", "b"]))
(3, ['a', 'b'])
>>> plain_value(np.datetime64("2023-01-01T00:00:00"))
datetime.datetime(2023, 1, 1, 0, 0)
"""

from __future__ import annotations

import numpy as np

__all__ = ["plain_value", "is_array_like"]


def is_array_like(value) -> bool:
    """A numpy array or a pandas Series, Index or array (never a user class)."""
    return isinstance(value, np.ndarray) or (
        type(value).__module__.startswith("pandas") and hasattr(value, "tolist")
        and not hasattr(value, "to_pydatetime"))


def plain_value(value):
    """Scalars as int/float/bool/str/datetime, arrays as lists; other values as given."""
    if isinstance(value, np.datetime64):
        import pandas as pd

        return pd.Timestamp(value).to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    if type(value).__module__.startswith("pandas") and hasattr(value, "to_pydatetime"):
        return value.to_pydatetime()  # a Timestamp (a datetime subclass)
    if is_array_like(value):
        return value.tolist()
    return value
