"""``where`` queries: pandas' ``DataFrame.query`` syntax, read into a
condition tree — never evaluated.

The string is parsed by :func:`ast.parse` and only an allow-list of nodes
is read: comparisons of a field with a value (``==, !=, <, <=, >, >=`` and
chains like ``1990 <= year < 2000``; ``in``/``not in`` with a list, a tuple
or an ``@name``), ``and``/``or``/``not`` (and pandas' ``&``, ``|``, ``~``,
with the precedence of ``and``/``or``/``not`` as in pandas), literals (str,
int, float, bool, None), field names and ```backticked key paths```
(``` `meta.lang` ``` is the nested key ``lang`` of ``meta``). ``@name``
takes a value from ``params``, else from the caller's frame. Anything else
(attribute access, calls, subscripts, arithmetic, lambdas, ...) raises
InvalidFilter naming it.

What comparisons mean (Qdrant's rules, read the pandas way):

- ``x == 'a'``, ``x == True``: Qdrant's match. ``x == 3`` compares numbers
  as numbers (3 equals 3.0, never True) — pandas' meaning; ``x == None`` is
  Qdrant's ``is_null``.
- ``x != v`` is ``not (x == v)`` and ``x not in [...]`` is
  ``not (x in [...])``: like Qdrant's ``must_not`` and like pandas (NaN !=
  anything), points *without* the key match. (Qdrant's ``except`` instead
  wants a value present: use ``filter=`` with ``match.except`` for that.)
  On arrays, ``x != v`` means no element equals v.
- ``<``, ``<=``, ``>``, ``>=`` take numbers (Qdrant's range) or datetimes
  (``created >= '2023-01-01'``: a datetime range).
- ``'a' in tags`` (a value in a field) means the field holds that value.
- A bare field ``flag`` means ``flag == True``.
- A chain ``1990 <= year < 2000`` is one range (one value within both
  bounds); ``year >= 1990 and year < 2000`` is two, each of which any
  element of an array may meet.

A compiled query is remembered by its text and the values (with their
types) of its ``@names``, so a notebook loop over one query string parses
it once; a changed value compiles again.

>>> parse_where("country == 'Australia' and 1990 <= year < 2000")
And(conditions=(Match(path='country', value='Australia'), Range(path='year', gt=None, gte=1990.0, lt=2000.0, lte=None)))
>>> parse_where("`meta.lang` in @langs", params={"langs": ["en", "de"]})
MatchAny(path='meta.lang', values=('de', 'en'))
>>> parse_where("__import__('os').system('ls')")
Traceback (most recent call last):
...
nbvec._errors.InvalidFilter: where: a function call is not allowed: __import__('os').system('ls'); a where query compares fields with values (==, !=, <, <=, >, >=, in, not in) joined by and, or, not (&, |, ~)
"""

from __future__ import annotations

import ast
import datetime as _dt
import math
import re
from collections.abc import Mapping

from .._errors import InvalidFilter
from ._datetime import datetime_micros, parse_datetime
from ._memo import remember
from ._plain import plain_value
from ._rowset import path_tokens
from ._tree import (
    FALSE,
    TRUE,
    Condition,
    DatetimeRange,
    IsNull,
    Match,
    MatchAny,
    NumberIn,
    Range,
    and_,
    not_,
    or_,
)

__all__ = ["parse_where"]

_ALLOWED = ("a where query compares fields with values (==, !=, <, <=, >, >=, in, not in) "
            "joined by and, or, not (&, |, ~)")
_MAX_LENGTH = 100_000
_NOT_ALLOWED = {
    ast.Attribute: "attribute access", ast.Call: "a function call", ast.Subscript: "a subscript",
    ast.Lambda: "a lambda", ast.ListComp: "a comprehension", ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension", ast.GeneratorExp: "a generator expression",
    ast.JoinedStr: "an f-string", ast.FormattedValue: "an f-string", ast.Starred: "a starred expression",
    ast.NamedExpr: "an assignment expression (:=)", ast.BinOp: "arithmetic", ast.IfExp: "a conditional expression",
    ast.Dict: "a dict", ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield",
    ast.Slice: "a slice",
}
_FLIP = {ast.Lt: ast.Gt, ast.Gt: ast.Lt, ast.LtE: ast.GtE, ast.GtE: ast.LtE,
         ast.Eq: ast.Eq, ast.NotEq: ast.NotEq, ast.In: ast.Eq, ast.NotIn: ast.NotEq,
         ast.Is: ast.Is, ast.IsNot: ast.IsNot}
_RANGE_OPS = {ast.Lt: "lt", ast.LtE: "lte", ast.Gt: "gt", ast.GtE: "gte"}
_OP_TEXT = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
            ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not"}
_IDENT = re.compile(r"[^\W\d]\w*")
_MISSING = object()
MEMO_SIZE = 256  # compiled queries remembered, by text and @variable values
_memo: dict = {}


def parse_where(query: str, params: Mapping | None = None, frame=None) -> Condition:
    """The condition tree of a pandas-style query string.

    ``@name`` is looked up in ``params``, then in ``frame``'s locals and
    globals (``frame`` a Python frame object, such as ``sys._getframe(1)``).
    """
    if not isinstance(query, str):
        raise InvalidFilter(f"where: expected a query string, got {type(query).__name__}")
    if not query.strip():
        raise InvalidFilter("where: the query is empty")
    if len(query) > _MAX_LENGTH:
        raise InvalidFilter(f"where: the query is longer than {_MAX_LENGTH:,} characters")
    reader = _Reader(query, params, frame)
    key = reader.memo_key()
    hit = _memo.get(key) if key is not None else None
    if hit is not None:
        return hit
    condition = _read(reader)
    if key is not None:
        remember(_memo, key, condition, MEMO_SIZE)
    return condition


def _read(reader: _Reader) -> Condition:
    query = reader.query
    try:
        # parenthesized: leading spaces and line breaks are fine, as in pandas
        tree = ast.parse(f"(\n{reader.source}\n)", mode="eval")
        return reader.boolean(tree.body)
    except SyntaxError as exc:
        raise InvalidFilter(f"where: cannot parse {query!r}: {exc.msg}") from None
    except (RecursionError, MemoryError):
        raise InvalidFilter("where: the query is nested too deeply") from None
    except ValueError as exc:  # e.g. a null byte
        if isinstance(exc, InvalidFilter):
            raise
        raise InvalidFilter(f"where: cannot parse {query!r}: {exc}") from None


def _rewrite(query: str, prefix: str) -> tuple[str, dict, dict]:
    """Python source for ``query``: each ```name``` and ``@name`` becomes a
    placeholder identifier; ``&``, ``|``, ``~`` become ``and``, ``or``,
    ``not`` (pandas' precedence). String literals are copied untouched."""
    out, names, refs = [], {}, {}
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch in "'\"":
            end = _string_end(query, i)
            out.append(query[i:end])
            i = end
        elif ch == "`":
            end = query.find("`", i + 1)
            if end < 0:
                raise InvalidFilter(f"where: unterminated backtick name in {query!r}")
            if end == i + 1:
                raise InvalidFilter(f"where: empty backtick name in {query!r}")
            placeholder = f"{prefix}n{len(names)}"
            names[placeholder] = query[i + 1 : end]
            out.append(f" {placeholder} ")
            i = end + 1
        elif ch == "@":
            m = _IDENT.match(query, i + 1)
            if m is None:
                raise InvalidFilter(f"where: '@' must be followed by a variable name in {query!r}")
            placeholder = f"{prefix}r{len(refs)}"
            refs[placeholder] = m.group()
            out.append(f" {placeholder} ")
            i = m.end()
        else:
            out.append({"&": " and ", "|": " or ", "~": " not "}.get(ch, ch))
            i += 1
    return "".join(out), names, refs


def _string_end(text: str, start: int) -> int:
    """Index just past the string literal opening at ``start``."""
    quote = text[start]
    if text.startswith(quote * 3, start):
        quote *= 3
    i = start + len(quote)
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text.startswith(quote, i):
            return i + len(quote)
        else:
            i += 1
    raise InvalidFilter(f"where: unterminated string in {text!r}")


class _Reader:
    """Reads the allowed nodes of one query's AST into conditions."""

    def __init__(self, query: str, params, frame):
        prefix = "_nbv"
        while prefix in query:  # placeholders must not collide with the user's names
            prefix += "_"
        self.query = query
        self.prefix = prefix
        self.source, self.names, self.refs = _rewrite(query, prefix)
        self.params = params
        self.frame = frame

    # -- errors -----------------------------------------------------------------------
    def text(self, node) -> str:
        """``node`` as the user wrote it (placeholders put back)."""
        src = ast.unparse(node)

        def back(m):
            p = m.group()
            return f"`{self.names[p]}`" if p in self.names else f"@{self.refs[p]}"

        return re.sub(rf"\b{re.escape(self.prefix)}[nr]\d+\b", back, src)

    def reject(self, node, what: str | None = None) -> InvalidFilter:
        what = what or _NOT_ALLOWED.get(type(node)) or f"{type(node).__name__}"
        hint = _ALLOWED
        if isinstance(node, ast.Attribute) and re.fullmatch(r"[\w.]+", self.text(node)):
            hint = f"to name a nested key, write it in backticks: `{self.text(node)}`"
        return InvalidFilter(f"where: {what} is not allowed: {self.text(node)}; {hint}")

    # -- boolean structure ------------------------------------------------------------
    def boolean(self, node) -> Condition:
        if isinstance(node, ast.BoolOp):
            parts = [self.boolean(v) for v in node.values]
            return and_(*parts) if isinstance(node.op, ast.And) else or_(*parts)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.Invert)):
            return not_(self.boolean(node.operand))
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Constant) and type(node.value) is bool:
            return TRUE if node.value else FALSE
        if isinstance(node, ast.Name):
            field = self.field(node)
            if field is not None:
                return Match(field, True)
        if isinstance(node, ast.Name) and node.id in self.refs:
            raise self.reject(node, "a bare @variable (not compared with a field)")
        raise self.reject(node)

    def compare(self, node: ast.Compare) -> Condition:
        parts = []
        left = node.left
        for op, right in zip(node.ops, node.comparators):
            parts.append(self.pair(left, type(op), right, node))
            left = right
        return and_(*_merge_bounds(parts))

    def pair(self, left, op: type, right, whole) -> Condition:
        lf, rf = self.field(left), self.field(right)
        if lf is not None and rf is not None:
            raise self.reject(whole, "comparing two fields")
        if lf is None and rf is None:
            if isinstance(left, ast.Name) or isinstance(right, ast.Name):
                raise self.reject(whole, "comparing a variable without a field")
            self.value(left)
            self.value(right)  # rejects disallowed pieces first, by name
            raise self.reject(whole, "comparing two values")
        if lf is None:  # value <op> field: read it as field <flipped op> value
            return self.condition(rf, _FLIP[op], self.value(left), whole,
                                  flipped=op in (ast.In, ast.NotIn))
        return self.condition(lf, op, self.value(right), whole)

    # -- operands ---------------------------------------------------------------------
    def field(self, node) -> str | None:
        """The key path a node names, or None if it is not a field."""
        if not isinstance(node, ast.Name):
            return None
        if node.id in self.refs:
            return None
        if node.id in self.names:
            path = self.names[node.id]
        else:
            if node.id.startswith("__"):
                raise self.reject(node, "a dunder name")
            path = node.id
        path_tokens(path)
        return path

    def value(self, node):
        """A literal, a list of literals or an @variable's value."""
        if isinstance(node, ast.Constant):
            return self.scalar(node.value, node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = node.operand
            if isinstance(inner, ast.Constant) and type(inner.value) in (int, float):
                return -inner.value if isinstance(node.op, ast.USub) else inner.value
            raise self.reject(node, "a sign on something that is not a number")
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            items = []
            for elt in node.elts:
                if isinstance(elt, (ast.List, ast.Tuple, ast.Set)):
                    raise self.reject(elt, "a nested list")
                items.append(self.value(elt))
            return items
        if isinstance(node, ast.Name) and node.id in self.refs:
            return self.resolve(node)
        if isinstance(node, ast.Name):
            raise self.reject(node, "a field where a value is expected")
        raise self.reject(node)

    def scalar(self, v, node):
        if v is None or type(v) in (str, int, float, bool):
            if type(v) is float and math.isnan(v):
                raise self.reject(node, "NaN (it equals nothing)")
            return v
        raise self.reject(node, f"a {type(v).__name__} literal")

    def memo_key(self) -> tuple | None:
        """(query, every @variable's value, typed) for the memo of compiled
        queries: the same text with the same values compiles the same; None
        when a value cannot be read (the parse says why)."""
        try:
            return self.query, tuple(_typed(self.lookup(name)) for name in self.refs.values())
        except (InvalidFilter, TypeError):
            return None

    def resolve(self, node):
        return self.lookup(self.refs[node.id])

    def lookup(self, name: str):
        """The value of ``@name``: from params, else the caller's locals, then globals."""
        value = _MISSING
        if self.params is not None and name in self.params:
            value = self.params[name]
        elif self.frame is not None:
            if name in self.frame.f_locals:
                value = self.frame.f_locals[name]
            elif name in self.frame.f_globals:
                value = self.frame.f_globals[name]
        if value is _MISSING:
            raise InvalidFilter(f"where: @{name} is not defined (pass params={{'{name}': ...}} "
                                "or define it where you call)")
        return _ref_value(value, name)

    # -- conditions -------------------------------------------------------------------
    def condition(self, path: str, op: type, value, whole, flipped: bool = False) -> Condition:
        if flipped:
            if isinstance(value, list):
                raise self.reject(whole, "a list on the left of 'in'")
        elif op in (ast.In, ast.NotIn) and not isinstance(value, list):
            raise self.reject(whole, f"'{_OP_TEXT[op]}' with a single value (it needs a list)")
        if isinstance(value, list):
            if op in (ast.Eq, ast.In):  # pandas reads == [...] as isin
                return _isin(path, value, self, whole)
            if op in (ast.NotEq, ast.NotIn):
                return not_(_isin(path, value, self, whole))
            raise self.reject(whole, f"'{_OP_TEXT[op]}' with a list")
        if op in (ast.Is, ast.IsNot):
            if value is not None:
                raise self.reject(whole, "'is' with something other than None (use ==)")
            op = ast.Eq if op is ast.Is else ast.NotEq
        if op is ast.NotEq:
            return not_(self.condition(path, ast.Eq, value, whole))
        if op is ast.Eq:
            return _equals(path, value, self, whole)
        return _order(path, _RANGE_OPS[op], value, self, whole)


def _typed(value):
    """A hashable key of a resolved value that tells True from 1 and 1 from 1.0."""
    if isinstance(value, list):
        return tuple(_typed(v) for v in value)
    return type(value), value


def _merge_bounds(parts: list) -> list:
    """A chain ``1990 <= year < 2000`` as one range: one value within both
    bounds (two separate ranges could each be met by another array element)."""
    out: list = []
    for p in parts:
        prev = out[-1] if out else None
        if (isinstance(p, (Range, DatetimeRange)) and type(prev) is type(p) and prev.path == p.path
                and not any(getattr(prev, b) is not None and getattr(p, b) is not None
                            for b in ("gt", "gte", "lt", "lte"))):
            merged = {b: getattr(prev, b) if getattr(prev, b) is not None else getattr(p, b)
                      for b in ("gt", "gte", "lt", "lte")}
            out[-1] = type(p)(p.path, **merged)
        else:
            out.append(p)
    return out


def _ref_value(value, name: str):
    """An @variable's value as a Python scalar or a list of them."""
    value = plain_value(value)
    if isinstance(value, (set, frozenset, tuple, range)):
        value = list(value)
    if isinstance(value, list):
        out = []
        for item in value:
            item = _ref_value(item, name)
            if isinstance(item, list):
                raise InvalidFilter(f"where: @{name} holds a nested list; use a flat list")
            out.append(item)
        return out
    if value is None or isinstance(value, (str, bool, int, float, _dt.date)):
        if type(value) is float and math.isnan(value):
            raise InvalidFilter(f"where: @{name} is NaN, which equals nothing")
        return value
    raise InvalidFilter(f"where: @{name} is a {type(value).__name__}; a where query takes "
                        "str, int, float, bool, None, datetimes or lists of them")


def _kind(value) -> str:
    if value is None:
        return "none"
    if type(value) is bool:
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "str"
    if isinstance(value, _dt.date):
        return "moment"
    return "other"


def _equals(path: str, value, reader: _Reader, whole) -> Condition:
    kind = _kind(value)
    if kind == "none":
        return IsNull(path)
    if kind in ("bool", "str"):
        return Match(path, value)
    if kind == "number":
        return NumberIn(path, frozenset([value]))
    if kind == "moment":
        micros = datetime_micros(value)
        return DatetimeRange(path, gte=micros, lte=micros)
    raise reader.reject(whole, f"comparing with a {type(value).__name__}")


def _isin(path: str, values: list, reader: _Reader, whole) -> Condition:
    by_kind: dict = {}
    for v in values:
        by_kind.setdefault(_kind(v), []).append(v)
    if "other" in by_kind:
        raise reader.reject(whole, f"a list holding a {type(by_kind['other'][0]).__name__}")
    parts = []
    if "none" in by_kind:
        parts.append(IsNull(path))
    for b in dict.fromkeys(by_kind.get("bool", ())):
        parts.append(Match(path, b))
    strs = sorted(set(by_kind.get("str", ())))
    if strs:
        parts.append(Match(path, strs[0]) if len(strs) == 1 else MatchAny(path, tuple(strs)))
    if "number" in by_kind:
        parts.append(NumberIn(path, frozenset(by_kind["number"])))
    parts += [_equals(path, m, reader, whole) for m in by_kind.get("moment", ())]
    return or_(*parts)


def _order(path: str, op: str, value, reader: _Reader, whole) -> Condition:
    kind = _kind(value)
    if kind == "number":
        return Range(path, **{op: float(value)})
    if kind == "moment":
        return DatetimeRange(path, **{op: datetime_micros(value)})
    if kind == "str":
        micros = parse_datetime(value)
        if micros is not None:
            return DatetimeRange(path, **{op: micros})
        raise reader.reject(whole, "ordering a string that is not a datetime (only numbers and "
                                   "datetimes such as '2023-01-01T00:00:00Z' have an order)")
    raise reader.reject(whole, f"ordering with {value!r}")
