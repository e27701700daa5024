"""Exact comparisons on values that Python rounds before comparing.

The Python engine rounds some facts (`lab.ck.fold` = round(value / ULN, 3), the disease duration in
months to one decimal). Rounding in SQL (`ROUND`) is not always the same as Python's correctly
rounded `round` near a half-way point, so instead of rounding in SQL the compiler compares the raw
value with bounds found here: for a monotone `f` (Python's own rounding), `f(x) > t` holds exactly when
`x > A` with `A` the largest `x` where `f(x) <= t`. The bounds are found by bisection over the ordered
doubles (or integers) with the very function Python uses, and bound as parameters.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable

_SIGN = 0x8000_0000_0000_0000
_LIM = 1e15


def _ordinal(x: float) -> int:
    i: int = struct.unpack("<q", struct.pack("<d", x))[0]
    return i if i >= 0 else -(i & 0x7FFF_FFFF_FFFF_FFFF)


def _from_ordinal(o: int) -> float:
    if o >= 0:
        return float(struct.unpack("<d", struct.pack("<q", o))[0])
    return float(struct.unpack("<d", struct.pack("<Q", (-o) | _SIGN))[0])


def _last_true(pred: Callable[[int], bool], lo: int, hi: int) -> int | None:
    """Largest n in [lo, hi] with pred(n) true, for pred true-then-false (None if never true)."""
    if not pred(lo):
        return None
    if pred(hi):
        return hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if pred(mid):
            lo = mid
        else:
            hi = mid
    return lo


Cond = tuple[str, float, float]
"""(kind, a, b): `true`, `false`, `gt` (x > a), `le` (x <= a), `ge` (x >= a), `lt` (x < a),
`between` (a <= x <= b) or `not_between`."""


def _range(op: str, a: float | None, b: float | None) -> Cond:
    """a = largest x with f(x) <= t (None: no such x; inf: every x); b = smallest x with f(x) >= t
    (None: no such x; -inf: every x)."""
    inf = math.inf
    if op == ">":
        return ("true", 0, 0) if a is None else ("false", 0, 0) if a == inf else ("gt", a, 0)
    if op == "<=":
        return ("false", 0, 0) if a is None else ("true", 0, 0) if a == inf else ("le", a, 0)
    if op == ">=":
        return ("false", 0, 0) if b is None else ("true", 0, 0) if b == -inf else ("ge", b, 0)
    if op == "<":
        return ("true", 0, 0) if b is None else ("false", 0, 0) if b == -inf else ("lt", b, 0)
    if op in ("==", "!="):
        if a is None or b is None or (b != -inf and a != inf and b > a):
            kind = "false"
        elif a == inf and b == -inf:
            kind = "true"
        elif a == inf:
            return ("ge", b, 0) if op == "==" else ("lt", b, 0)
        elif b == -inf:
            return ("le", a, 0) if op == "==" else ("gt", a, 0)
        else:
            return ("between", b, a) if op == "==" else ("not_between", b, a)
        if op == "!=":
            kind = "true" if kind == "false" else "false"
        return (kind, 0, 0)
    raise ValueError(op)


def float_condition(f: Callable[[float], float], op: str, t: float) -> Cond:
    """The condition on raw x equivalent to `f(x) op t` (x a double within ±1e15)."""
    lo, hi = _ordinal(-_LIM), _ordinal(_LIM)
    a_o = _last_true(lambda o: f(_from_ordinal(o)) <= t, lo, hi)
    b_o = _last_true(lambda o: f(_from_ordinal(o)) < t, lo, hi)
    a = None if a_o is None else (math.inf if a_o == hi else _from_ordinal(a_o))
    b = -math.inf if b_o is None else (None if b_o == hi else _from_ordinal(b_o + 1))
    return _range(op, a, b)


def int_condition(f: Callable[[int], float], op: str, t: float, lim: int = 10**8) -> Cond:
    """The condition on an integer n equivalent to `f(n) op t` (|n| <= lim)."""
    a_i = _last_true(lambda n: f(n) <= t, -lim, lim)
    b_i = _last_true(lambda n: f(n) < t, -lim, lim)
    a = None if a_i is None else (math.inf if a_i == lim else float(a_i))
    b = -math.inf if b_i is None else (None if b_i == lim else float(b_i + 1))
    return _range(op, a, b)
