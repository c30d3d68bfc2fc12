"""The vectorized filter evaluator equals a plain per-point reading of
Qdrant's documented semantics, on hypothesis-generated payloads (nested
objects, arrays, nulls, mixed types, missing keys) and filters (every
condition kind, must/should/must_not/min_should, nested), after updates
that tombstone rows and payload edits that must invalidate the caches.

``where`` strings generated alongside their Qdrant-filter equivalents give
the same points.

The reference below is written apart from nbvec: its own path reader, its
own type rules, one point and one condition at a time.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nbvec import VectorFrame
from nbvec._filter import compile_filter, segment_mask

# -- the reference evaluator ---------------------------------------------------------


def ref_path(path: str) -> list:
    """'a[].b[0]' -> ['a', '[]', 'b', 0] (the simple paths this test uses)."""
    out = []
    for part in path.split("."):
        name, brackets = re.fullmatch(r"([^\[]+)((?:\[\d*\])*)", part).groups()
        out.append(name)
        out += ["[]" if b == "" else int(b) for b in re.findall(r"\[(\d*)\]", brackets)]
    return out


def ref_raw(payload: dict, path: str) -> list:
    """Values the path reaches; a key reads an object only, [] walks an array."""
    found = [payload]
    for step in ref_path(path):
        nxt = []
        for v in found:
            if step == "[]" and isinstance(v, list):
                nxt += v
            elif isinstance(step, int) and isinstance(v, list) and step < len(v):
                nxt.append(v[step])
            elif isinstance(step, str) and step != "[]" and isinstance(v, dict) and step in v:
                nxt.append(v[step])
        found = nxt
    return found


def ref_leaves(payload: dict, path: str) -> list:
    out = []
    for v in ref_raw(payload, path):
        out += v if isinstance(v, list) else [v]
    return out


def kind(v) -> str:
    return {bool: "bool", int: "int", float: "float", str: "str"}.get(type(v), "other")


def same(a, b) -> bool:
    return kind(a) == kind(b) != "other" and a == b


def is_number(v) -> bool:
    return kind(v) in ("int", "float")


def ref_datetime(v):
    if not isinstance(v, str):
        return None
    try:
        t = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def words(s: str) -> list:
    return [w.lower() for w in re.findall(r"[A-Za-z0-9]+", s)]


def ref_text(mode: str, q: str, s) -> bool:
    if not isinstance(s, str):
        return False
    if mode == "prefix":
        return s.startswith(q)
    if mode == "substring":
        return q in s
    qw, sw = words(q), words(s)
    if mode == "text":
        return bool(qw) and all(w in sw for w in qw)
    if mode == "text_any":
        return any(w in sw for w in qw)
    return bool(qw) and any(sw[i: i + len(qw)] == qw for i in range(len(sw)))  # phrase


def within(v, b: dict) -> bool:
    return (("gt" not in b or v > b["gt"]) and ("gte" not in b or v >= b["gte"])
            and ("lt" not in b or v < b["lt"]) and ("lte" not in b or v <= b["lte"]))


def ref_field(c: dict, payload: dict) -> bool:
    path = c["key"]
    if "match" in c:
        m = c["match"]
        leaves = ref_leaves(payload, path)
        if "value" in m:
            return any(same(x, m["value"]) for x in leaves)
        if "any" in m:
            return any(same(x, v) for x in leaves for v in m["any"])
        if "except" in m:
            return any(x is not None and not any(same(x, v) for v in m["except"]) for x in leaves)
        (mode, q), = m.items()
        return any(ref_text(mode, q, x) for x in leaves)
    if "range" in c:
        b = c["range"]
        if any(isinstance(v, str) for v in b.values()):
            bounds = {k: ref_datetime(v) for k, v in b.items()}
            return any(t is not None and within(t, bounds)
                       for t in map(ref_datetime, ref_leaves(payload, path)))
        return any(is_number(x) and within(x, b) for x in ref_leaves(payload, path))
    if "values_count" in c:
        counts = [len(v) if isinstance(v, list) else 0 if v is None else 1
                  for v in ref_raw(payload, path)] or [0]
        return any(within(n, c["values_count"]) for n in counts)
    if "is_empty" in c:
        return ref_is_empty(payload, path) == c["is_empty"]
    if "is_null" in c:
        return ref_is_null(payload, path) == c["is_null"]
    raise AssertionError(c)


def ref_is_empty(payload, path) -> bool:
    return all(v is None or v == [] for v in ref_raw(payload, path))


def ref_is_null(payload, path) -> bool:
    return any(v is None or (isinstance(v, list) and any(x is None for x in v))
               for v in ref_raw(payload, path))


def ref_condition(c: dict, payload: dict, pid) -> bool:
    if "key" in c:
        return ref_field(c, payload)
    if "is_empty" in c:
        return ref_is_empty(payload, c["is_empty"]["key"])
    if "is_null" in c:
        return ref_is_null(payload, c["is_null"]["key"])
    if "has_id" in c:
        return pid is not None and pid in c["has_id"]
    if "nested" in c:
        key = c["nested"]["key"]
        # Qdrant reads a nested key as the array's path: "a" and "a[]" name the same array
        key = key[:-2] if key.endswith("[]") else key
        elements = [x for v in ref_raw(payload, key) if isinstance(v, list)
                    for x in v if isinstance(x, dict)]
        return any(ref_filter(c["nested"]["filter"], x, None) for x in elements)
    return ref_filter(c, payload, pid)


def ref_filter(f: dict, payload: dict, pid) -> bool:
    ok = all(ref_condition(c, payload, pid) for c in f.get("must", []))
    if f.get("should"):
        ok = ok and any(ref_condition(c, payload, pid) for c in f["should"])
    ok = ok and not any(ref_condition(c, payload, pid) for c in f.get("must_not", []))
    if "min_should" in f:
        ms = f["min_should"]
        ok = ok and sum(ref_condition(c, payload, pid) for c in ms["conditions"]) >= ms["min_count"]
    return ok


# -- strategies ------------------------------------------------------------------------

# small domains, so that conditions often meet the values they test
STRS = ["a", "b", "a b", "2023-01-01T00:00:00Z", "2024-06-01 12:00:00", "2023-13-45"]
INTS = st.integers(-1, 2)
FLOATS = st.sampled_from([-1.0, 0.5, 1.0, 2.0])
SCALARS = st.one_of(st.none(), st.booleans(), INTS, FLOATS, st.sampled_from(STRS))
KEYS = ["a", "b", "c"]
JSON = st.one_of(
    SCALARS, SCALARS, st.lists(SCALARS, max_size=3),
    st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                 | st.dictionaries(st.sampled_from(KEYS), inner, max_size=3), max_leaves=8))
PAYLOAD = st.fixed_dictionaries({}, optional={
    "n": INTS, "f": FLOATS, "s": st.sampled_from(STRS), "t": st.booleans(),  # typed columns
    "a": JSON, "b": JSON, "c": JSON})
# top-level keys weigh more: conditions on them select some points more often
PATHS = ["a", "b", "c", "n", "f", "s", "t"] * 3 + [
    "a.a", "a.b", "a[]", "a[].a", "a[].b", "a[0]", "b[].c", "a.b[]", "c[1]", "a[].a[]"]
NESTED_PATHS = ["a", "b", "c", "a.b", "a[]", "b[].a"]
BOUNDS = ["gt", "gte", "lt", "lte"]
DATES = ["2022-12-31T00:00:00Z", "2023-01-01T00:00:00Z", "2024-01-01T00:00:00+01:00"]


def bounds_of(values):
    return st.dictionaries(st.sampled_from(BOUNDS), values, min_size=1, max_size=2)


# values a typed key usually holds, so that matches on it often hit
LIKELY = {"n": INTS, "t": st.booleans(), "s": st.sampled_from(STRS), "f": FLOATS}


def field_condition():
    return st.sampled_from(PATHS).flatmap(
        lambda p: st.builds(lambda k: {"key": p, **k}, condition_kinds(LIKELY.get(p))))


def condition_kinds(likely):
    value = st.one_of(st.booleans(), INTS, st.sampled_from(STRS))
    if likely is not None and likely is not FLOATS:
        value = st.one_of(likely, likely, value)
    value_list = st.one_of(st.lists(INTS, max_size=3), st.lists(st.sampled_from(STRS), max_size=3))
    match = st.one_of(
        st.builds(lambda v: {"value": v}, value),
        st.builds(lambda v: {"any": v}, value_list),
        st.builds(lambda v: {"except": v}, value_list),
        st.builds(lambda m, q: {m: q}, st.sampled_from(["text", "text_any", "phrase", "prefix",
                                                        "substring"]),
                  st.sampled_from(["a", "b", "a b", "b a", "c", "", "2023"])))
    return st.one_of(
        st.builds(lambda m: {"match": m}, match),
        st.builds(lambda m: {"match": m}, match),
        st.builds(lambda m: {"match": m}, match),
        st.builds(lambda b: {"range": b}, bounds_of(st.sampled_from([-1, 0, 0.5, 1, 1.5, 2]))),
        st.builds(lambda b: {"range": b}, bounds_of(st.sampled_from(DATES))),
        st.builds(lambda b: {"values_count": b}, bounds_of(st.integers(0, 3))),
        st.builds(lambda v: {"is_empty": v}, st.booleans()),
        st.builds(lambda v: {"is_null": v}, st.booleans()))


def conditions(max_depth: int):
    leaf = st.one_of(
        field_condition(), field_condition(),
        st.builds(lambda p: {"is_empty": {"key": p}}, st.sampled_from(PATHS)),
        st.builds(lambda p: {"is_null": {"key": p}}, st.sampled_from(PATHS)),
        st.builds(lambda ids: {"has_id": ids}, st.lists(st.integers(0, 30), max_size=6)))
    if max_depth == 0:
        return leaf
    inner = conditions(max_depth - 1)
    return st.one_of(
        leaf, leaf,
        filters(inner),
        st.builds(lambda p, f: {"nested": {"key": p, "filter": f}},
                  st.sampled_from(NESTED_PATHS), filters(inner)))


def filters(cond):
    """Mostly one clause (so filters select some points, not all or none),
    sometimes all four together."""
    lists = st.lists(cond, min_size=1, max_size=3)
    min_should = st.builds(lambda cs, k: {"conditions": cs, "min_count": k},
                           st.lists(cond, min_size=1, max_size=3), st.integers(1, 3))
    return st.one_of(
        st.builds(lambda c: {"must": c}, lists),
        st.builds(lambda c: {"should": c}, lists),
        st.builds(lambda c: {"must_not": c}, lists),
        st.builds(lambda m: {"min_should": m}, min_should),
        st.fixed_dictionaries({}, optional={
            "must": lists, "should": st.lists(cond, max_size=3), "must_not": lists,
            "min_should": min_should}))


def point_id(i: int):
    return str(uuid.UUID(int=i + 1)) if i % 5 == 4 else i


# -- building a frame --------------------------------------------------------------------

def build(payloads, updates):
    """A frame holding ``payloads`` (ids from point_id), then ``updates``
    (index, payload) applied by upsert: returns (frame, final payloads)."""
    vf = VectorFrame(2, "Dot", progress=False)
    n = len(payloads)
    ids = [point_id(i) for i in range(n)]
    vf.upsert(ids, np.ones((n, 2)), payload=payloads)
    final = list(payloads)
    for i, p in updates:
        if i < n:
            vf.upsert([ids[i]], np.ones((1, 2)), payload=[p])
            final[i] = p
    return vf, ids, final


def matched(vf, condition) -> set:
    out = set()
    for seg in vf._engine.segments:
        mask = segment_mask(condition, seg)
        assert mask.shape == (seg.n,) and mask.dtype == bool
        out.update(seg.ids[: seg.n][mask & seg.live_mask()].tolist())
    return out


def reference(ids, payloads, f) -> set:
    return {pid for pid, p in zip(ids, payloads) if ref_condition(f, p, pid)}


def has_id_as_ids(f):
    """The generated has_id lists name row numbers: turn them into point ids."""
    if isinstance(f, dict):
        return {k: ([point_id(i) for i in v] if k == "has_id" else has_id_as_ids(v))
                for k, v in f.items()}
    if isinstance(f, list):
        return [has_id_as_ids(x) for x in f]
    return f


SETTINGS = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(payloads=st.lists(PAYLOAD, min_size=6, max_size=25),
       updates=st.lists(st.tuples(st.integers(0, 24), PAYLOAD), max_size=4),
       fs=st.lists(filters(conditions(2)), min_size=1, max_size=4))
def test_vectorized_equals_reference(payloads, updates, fs):
    vf, ids, final = build(payloads, updates)
    for f in map(has_id_as_ids, fs):
        for part in [f, *parts_of(f)]:  # every sub-condition on its own too
            want = reference(ids, final, part)
            cond = compile_filter(part)
            assert matched(vf, cond) == want, part
            assert matched(vf, cond) == want, f"cached mask differs: {part}"


def parts_of(f: dict):
    """Every condition inside a filter, nested filters' conditions included."""
    inner = f.get("nested", {}).get("filter")
    if inner is not None:
        yield inner
        yield from parts_of(inner)
    for clause in ("must", "should", "must_not"):
        for c in f.get(clause, []):
            yield c
            yield from parts_of(c)
    for c in f.get("min_should", {}).get("conditions", []):
        yield c
        yield from parts_of(c)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads=st.lists(PAYLOAD, min_size=6, max_size=15), new=PAYLOAD.filter(bool),
       f=filters(conditions(1)))
def test_payload_edits_invalidate_cached_masks(payloads, new, f):
    vf, ids, final = build(payloads, [])
    parts = [f, *parts_of(f)]
    conds = [compile_filter(has_id_as_ids(p)) for p in parts]
    for p, cond in zip(parts, conds):
        assert matched(vf, cond) == reference(ids, final, has_id_as_ids(p))
    edited = ids[::2]
    vf.set_payload(new, ids=edited)
    final = [{**p, **new} if pid in edited else p for pid, p in zip(ids, final)]
    for p, cond in zip(parts, conds):
        assert matched(vf, cond) == reference(ids, final, has_id_as_ids(p)), p


# -- where strings and their filter equivalents -----------------------------------------

WHERE_PATHS = {"a": "a", "n": "n", "s": "s", "f": "f", "t": "t", "a.a": "`a.a`",
               "a[]": "`a[]`", "a[].b": "`a[].b`", "c[1]": "`c[1]`"}


def lit(v) -> str:
    return repr(v)


def where_leaf():
    path = st.sampled_from(["n", "f", "s", "t"] * 2 + sorted(WHERE_PATHS))
    num = st.sampled_from([-1, 0, 0.5, 1, 1.5, 2, 1.0, 2.0])
    strs = st.sampled_from(["a", "b", "a b", "it's", 'q"uote', "`tick` @x & | ~"])

    def eq(p, v):
        name = WHERE_PATHS[p]
        if isinstance(v, (bool, str)):
            return f"{name} == {lit(v)}", {"key": p, "match": {"value": v}}
        return f"{name} == {lit(v)}", {"key": p, "range": {"gte": v, "lte": v}}

    def ne(p, v):
        w, f = eq(p, v)
        return w.replace(" == ", " != "), {"must_not": [f]}

    def isin(p, vs, negate):
        name = WHERE_PATHS[p]
        w = f"{name} {'not in' if negate else 'in'} {lit(vs)}"
        f = {"key": p, "match": {"any": vs}}
        return w, ({"must_not": [f]} if negate else f)

    def order(p, op, v):
        sym = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[op]
        return f"{WHERE_PATHS[p]} {sym} {lit(v)}", {"key": p, "range": {op: v}}

    def chain(p, lo, hi):
        lo, hi = sorted([lo, hi])
        return (f"{lit(lo)} <= {WHERE_PATHS[p]} < {lit(hi)}",
                {"key": p, "range": {"gte": lo, "lt": hi}})

    def null(p, negate):
        f = {"is_null": {"key": p}}
        if negate:
            return f"{WHERE_PATHS[p]} != None", {"must_not": [f]}
        return f"{WHERE_PATHS[p]} == None", f

    def dates(p, op, d):
        sym = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[op]
        return f"{WHERE_PATHS[p]} {sym} {lit(d)}", {"key": p, "range": {op: d}}

    return st.one_of(
        st.builds(eq, path, st.one_of(st.booleans(), num, strs)),
        st.builds(ne, path, st.one_of(st.booleans(), num, strs)),
        st.builds(isin, path, st.lists(strs, min_size=1, max_size=3).map(sorted), st.booleans()),
        st.builds(order, path, st.sampled_from(BOUNDS), num),
        st.builds(chain, path, num, num),
        st.builds(null, path, st.booleans()),
        st.builds(dates, path, st.sampled_from(BOUNDS), st.sampled_from(DATES)))


def where_tree():
    def join(parts, word):
        return f" {word} ".join(f"({w})" for w, _ in parts)

    def combine(inner):
        return st.one_of(
            st.builds(lambda ps, w: (join(ps, w), {"must": [f for _, f in ps]}),
                      st.lists(inner, min_size=2, max_size=3), st.sampled_from(["and", "&"])),
            st.builds(lambda ps, w: (join(ps, w), {"should": [f for _, f in ps]}),
                      st.lists(inner, min_size=2, max_size=3), st.sampled_from(["or", "|"])),
            st.builds(lambda p, w: (f"{w}({p[0]})", {"must_not": [p[1]]}),
                      inner, st.sampled_from(["not ", "~"])))

    return st.recursive(where_leaf(), combine, max_leaves=6)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads=st.lists(PAYLOAD, min_size=6, max_size=20), pair=where_tree())
def test_where_equals_its_filter(payloads, pair):
    where, f = pair
    vf, ids, final = build(payloads, [])
    want = reference(ids, final, f)
    assert matched(vf, compile_filter(f)) == want, (where, f)
    assert matched(vf, compile_filter(where=where)) == want, (where, f)


def test_reference_reads_paths_like_qdrant():
    """Sanity of the reference itself on hand-checked cases."""
    p = {"a": [{"b": 1}, {"b": [2, None]}], "c": {"b": 3}}
    assert ref_raw(p, "a[].b") == [1, [2, None]]
    assert ref_raw(p, "a.b") == []
    assert ref_leaves(p, "a[].b") == [1, 2, None]
    assert ref_is_null(p, "a[].b") and not ref_is_empty(p, "a[].b")
    assert ref_filter({"must": [{"key": "c.b", "range": {"gte": 3}}]}, p, 0)
    assert not ref_filter({"must": [{"key": "c.b", "match": {"value": True}}]}, p, 0)
    assert not same(1.0, 1) and not same(True, 1) and same(1, 1)
