"""Result lists: plain lists of ScoredPoint or Record that also convert to
pandas and render as a table in a notebook.

>>> from nbvec.models import ScoredPoint
>>> r = Results([ScoredPoint(id=1, score=0.9, payload={"a": "x"})])
>>> r.to_pandas().columns.tolist()
['id', 'score', 'a']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._html import groups_table, points_table

__all__ = ["Results", "GroupResults"]


class Results(list):
    """A list of ScoredPoint (search) or Record (retrieve/scroll).

    A search's Results is filled on first read (iteration, indexing, ``len``
    excepted, printing, comparison, any list method): until then it holds
    its share of the search's hit table, and ``ids``, ``scores`` and ``len``
    answer from the table's arrays without making the points.
    """

    _table = None  # a HitTable still to be read: (table, lo, hi)

    @classmethod
    def of_table(cls, table, lo: int, hi: int) -> Results:
        """Results of hits ``lo:hi`` of ``table`` (a HitTable), made when first read."""
        out = list.__new__(cls)  # empty: nothing for list.__init__ to do
        out.__dict__["_table"] = (table, lo, hi)
        return out

    def _fill(self) -> None:
        table, lo, hi = self._table
        self._table = None
        list.extend(self, table.points()[lo:hi])

    def _plain_list(self) -> list:
        """The points as a plain list, this Results left as it is (pydantic
        models take plain lists: it reads a list subclass's C storage)."""
        if self._table is not None:
            table, lo, hi = self._table
            return table.points()[lo:hi]
        return list.copy(self)

    def __len__(self) -> int:
        if self._table is not None:
            return self._table[2] - self._table[1]
        return list.__len__(self)

    def __reduce_ex__(self, protocol):
        return (Results, (list(self),))

    @property
    def ids(self) -> list:
        if self._table is not None:
            table, lo, hi = self._table
            ids = table.ids
            return (ids if hi - lo == len(ids) else ids[lo:hi]).tolist()
        return [p.id for p in self]

    @property
    def scores(self) -> np.ndarray:
        if self._table is not None:
            table, lo, hi = self._table
            return table.scores[lo:hi].astype(np.float64)
        return np.array([getattr(p, "score", np.nan) for p in self], dtype=np.float64)

    def to_pandas(self) -> pd.DataFrame:
        """One row per point: id, score (search), payload keys as columns, and
        ``vector`` (or ``vector.<name>`` per named vector) when returned. A
        payload key named id, score or vector comes out as ``payload.<key>``."""
        data: dict[str, list] = {"id": self.ids}
        if self and hasattr(self[0], "score"):
            data["score"] = [p.score for p in self]
        payload = pd.DataFrame([p.payload or {} for p in self], index=range(len(self)))
        payload = payload.rename(columns={c: f"payload.{c}" for c in payload.columns
                                          if c in ("id", "score", "vector")})
        frame = pd.concat([pd.DataFrame(data), payload], axis=1)
        if any(p.vector is not None for p in self):
            first = next(p.vector for p in self if p.vector is not None)
            if isinstance(first, dict):
                for name in first:
                    col = "vector" if name == "" else f"vector.{name}"
                    frame[col] = [(p.vector or {}).get(name) for p in self]
            else:
                frame["vector"] = [p.vector for p in self]
        return frame

    def _repr_html_(self) -> str:
        kind = "hits" if self and hasattr(self[0], "score") else "points"
        rows = [
            {"id": p.id, **({"score": p.score} if hasattr(p, "score") else {}),
             "payload": p.payload, "vector": p.vector}
            for p in self
        ]
        return points_table(rows, f"{len(self)} {kind}")


def _filled_first(name: str):
    """``list.<name>``, after filling a Results still to be read (and any
    Results among the arguments: list's C methods read their storage)."""
    method = getattr(list, name)

    def filled(self, *args, **kwargs):
        if self._table is not None:
            self._fill()
        for arg in args:
            if isinstance(arg, Results) and arg._table is not None:
                arg._fill()
        return method(self, *args, **kwargs)

    filled.__name__ = filled.__qualname__ = name
    filled.__doc__ = method.__doc__
    return filled


for _name in ("__getitem__", "__iter__", "__reversed__", "__contains__", "__repr__",
              "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__add__", "__mul__",
              "__rmul__", "__iadd__", "__imul__", "__setitem__", "__delitem__", "__sizeof__",
              "append", "extend", "insert", "pop", "remove", "index", "count", "copy", "sort",
              "reverse", "clear"):
    setattr(Results, _name, _filled_first(_name))
del _name


class GroupResults(list):
    """A list of PointGroup (id, hits, lookup) from a grouped search."""

    def to_pandas(self) -> pd.DataFrame:
        """Tidy: one row per hit — group_id, rank (0 = best in group), id, score,
        payload columns (and ``lookup.<key>`` columns when groups have a lookup);
        payload keys named rank or group_id come out as ``payload.<key>``."""
        frames = []
        for g in self:
            f = Results(g.hits).to_pandas()
            f = f.rename(columns={c: f"payload.{c}" for c in ("rank", "group_id")
                                  if c in f.columns})
            f.insert(0, "rank", range(len(f)))
            f.insert(0, "group_id", [g.id] * len(f))
            if g.lookup is not None:
                for k, v in (g.lookup.payload or {}).items():
                    f[f"lookup.{k}"] = [v] * len(f)
            frames.append(f)
        if not frames:
            return pd.DataFrame(columns=["group_id", "rank", "id", "score"])
        return pd.concat(frames, ignore_index=True)

    def _repr_html_(self) -> str:
        return groups_table([
            {"id": g.id, "lookup": g.lookup.payload if g.lookup is not None else None,
             "hits": [{"id": h.id, "score": h.score, "payload": h.payload, "vector": h.vector}
                      for h in g.hits]}
            for g in self
        ])
