"""Datetimes in filters: RFC 3339 strings (and Qdrant's looser forms) as UTC
microseconds since the epoch, so datetime ranges compare integers.

A time without a zone is UTC, as in Qdrant; a payload string that is not a
datetime is simply not one (no error: Qdrant keeps no schema).

>>> parse_datetime("2023-02-08T10:49:00+01:00") == parse_datetime("2023-02-08 09:49Z")
False
>>> parse_datetime("2023-02-08T10:49:00+01:00") == parse_datetime("2023-02-08T09:49:00Z")
True
>>> parse_datetime("yesterday") is None
True
"""

from __future__ import annotations

import datetime as _dt
import re

__all__ = ["parse_datetime", "datetime_micros", "datetime_as_utc"]

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_MICRO = _dt.timedelta(microseconds=1)

# The forms Qdrant core accepts: a date, then optionally a time, then
# (with seconds) an optional zone.
_FORMATS = [
    "%Y-%m-%dT%H:%M:%S.%f%z",
    "%Y-%m-%d %H:%M:%S.%f%z",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S.%f %z",
    "%Y-%m-%d %H:%M:%S.%f %z",
    "%Y-%m-%dT%H:%M:%S %z",
    "%Y-%m-%d %H:%M:%S %z",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
]
_LONG_FRACTION = re.compile(r"\.(\d{6})\d+")
_HOUR_OFFSET = re.compile(r"[+-]\d\d$")


def _strptime(text: str) -> _dt.datetime | None:
    for fmt in _FORMATS:
        try:
            return datetime_as_utc(_dt.datetime.strptime(text, fmt))
        except ValueError:
            pass
    return None


def datetime_as_utc(value: _dt.datetime | _dt.date) -> _dt.datetime:
    """An aware datetime: a date is its midnight, a naive time is UTC."""
    if not isinstance(value, _dt.datetime):
        value = _dt.datetime.combine(value, _dt.time())
    return value if value.tzinfo is not None else value.replace(tzinfo=_dt.timezone.utc)


def parse_datetime(text: str) -> int | None:
    """UTC microseconds of a datetime string, or None if it is not one."""
    if type(text) is not str:
        return None
    text = text.lstrip()
    if text.endswith(" UTC"):
        text = text[: -len(" UTC")] + "+00:00"
    elif text.endswith("z"):
        text = text[:-1] + "Z"
    text = _LONG_FRACTION.sub(r".\1", text, count=1)  # nanoseconds: cut to micro
    dt = _strptime(text)
    if dt is None and _HOUR_OFFSET.search(text):
        dt = _strptime(text + ":00")
    return None if dt is None else datetime_micros(dt)


def datetime_micros(value: _dt.datetime | _dt.date) -> int:
    """UTC microseconds since the epoch of a datetime or date."""
    return (datetime_as_utc(value) - _EPOCH) // _MICRO
