"""Loaded by a child process whose PYTHONPATH starts with this folder: its local clock is off by
$RUNWAY_TEST_CLOCK_OFFSET_S seconds (every `datetime.now()`/`utcnow()`), as on a host whose clock is wrong."""

import datetime as _dt
import os

_real = _dt.datetime
_offset = _dt.timedelta(seconds=float(os.environ.get("RUNWAY_TEST_CLOCK_OFFSET_S", "0")))


class _Meta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, _real)

    def __subclasscheck__(cls, sub):
        return issubclass(sub, _real)


class _SkewedDatetime(_real, metaclass=_Meta):
    @classmethod
    def now(cls, tz=None):
        return _real.now(tz) + _offset

    @classmethod
    def utcnow(cls):
        return _real.utcnow() + _offset

    @classmethod
    def today(cls):
        return _real.today() + _offset


_dt.datetime = _SkewedDatetime
