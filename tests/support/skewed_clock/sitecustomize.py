"""Loaded by a child process whose PYTHONPATH starts with this folder: its local clock is off by
$RUNWAY_TEST_CLOCK_OFFSET_S seconds (every `datetime.now()`/`utcnow()`, and `time.time()`, which dates the
ObjectIds the driver makes), as on a host whose clock is wrong. Monotonic clocks are left alone, as they are
on such a host."""

import datetime as _dt
import os
import time as _time

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
_real_time, _real_time_ns = _time.time, _time.time_ns
_time.time = lambda: _real_time() + _offset.total_seconds()
_time.time_ns = lambda: _real_time_ns() + int(_offset.total_seconds() * 1e9)
