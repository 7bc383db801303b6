"""Durations and rates as people write them: ``"25ms"``, ``"3s"``, ``"100Mbit"``.

>>> from netlab.kernel.units import duration, rate
>>> duration("25ms"), duration("3s"), duration(0.5), duration("250us")
(0.025, 3.0, 0.5, 0.00025)
>>> rate("100Mbit"), rate("1.5 Gbit"), rate(8000)
(100000000.0, 1500000000.0, 8000.0)
"""

from __future__ import annotations

import math
import re

__all__ = ["duration", "rate"]

_TIME = {"": 1.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6}
_RATE = {"": 1.0, "bit": 1.0, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9}


def _parse(value: str | float, units: dict[str, float], what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"not a {what}: {value!r}")
    if isinstance(value, int | float):
        number, unit = float(value), ""
    else:
        m = re.fullmatch(r"\s*(-?[0-9]*\.?[0-9]+)\s*([a-zµ]*)\s*", value, re.IGNORECASE)
        if m is None or m.group(2).lower() not in units:
            known = ", ".join(u for u in units if u)
            raise ValueError(f"not a {what}: {value!r} (a number with one of: {known})")
        number, unit = float(m.group(1)), m.group(2).lower()
    if not 0 <= number < math.inf:  # also refuses NaN
        raise ValueError(f"a {what} must be a finite number, not negative: {value!r}")
    return number * units[unit]


def duration(value: str | float) -> float:
    """Seconds, from a number of seconds or a string with a unit (s, ms, us)."""
    return _parse(value, _TIME, "duration")


def rate(value: str | float) -> float:
    """Bits per second, from a number or a string with a unit (bit, kbit, Mbit, Gbit)."""
    return _parse(value, _RATE, "rate")
