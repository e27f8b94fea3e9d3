"""Instants as int64 UTC epoch seconds, calendars, and shared vectorised draws."""
from __future__ import annotations

import numpy as np

MINUTE, HOUR, DAY = 60, 3600, 86400
NEVER = np.int64(2**62)  # an instant that never comes: "does not happen"
# the year-end change freeze, (month, day) inclusive start to exclusive end
FREEZE_START, FREEZE_END = (12, 15), (1, 5)


def weekday(day):
    """Of a day number (days since 1970-01-01, a Thursday): Monday = 0."""
    return (day + 3) % 7


def month_day(t):
    d = (np.asarray(t) // DAY).astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    return (months.astype(np.int64) % 12 + 1,
            (d - months.astype("datetime64[D]")).astype(np.int64) + 1)


def in_freeze(t):
    month, day = month_day(t)
    return (((month == FREEZE_START[0]) & (day >= FREEZE_START[1]))
            | ((month == FREEZE_END[0]) & (day < FREEZE_END[1])))


def after_freeze(t):
    """00:00 of the day the freeze containing t ends (t must be in a freeze)."""
    d = (np.asarray(t) // DAY).astype("datetime64[D]")
    years = d.astype("datetime64[Y]").astype(np.int64)
    month, _ = month_day(t)
    years = years + (month == 12)
    end = ((years.astype("datetime64[Y]").astype("datetime64[M]")
            + (FREEZE_END[0] - 1)).astype("datetime64[D]") + (FREEZE_END[1] - 1))
    return end.astype(np.int64) * DAY


def year_of(t: int) -> int:
    return int(np.datetime64(int(t) // DAY, "D").astype("datetime64[Y]").astype(int)) + 1970


def epoch(year: int, month: int, day: int, hour: int = 0) -> int:
    return int(np.datetime64(f"{year:04d}-{month:02d}-{day:02d}", "D")
               .astype(np.int64)) * DAY + hour * HOUR


def floor_to(t, step):
    return t - t % step


def ceil_to(t, step):
    return t + (-t) % step


def pick(rng, weights, n):
    """n indices drawn with the given (unnormalised) weights."""
    cum = np.cumsum(np.asarray(weights, dtype=float))
    return np.searchsorted(cum, rng.random(n) * cum[-1], side="right")


def pick_rows(rng, weights):
    """One index per row of an (n, k) weight matrix."""
    cum = np.cumsum(weights, axis=1)
    u = rng.random(len(weights)) * cum[:, -1]
    return np.minimum((u[:, None] >= cum).sum(axis=1), weights.shape[1] - 1)


def lognormal(rng, median, sigma, n, lo=None, hi=None):
    x = median * np.exp(sigma * rng.standard_normal(n))
    if lo is not None or hi is not None:
        x = np.clip(x, lo, hi)
    return x


def uniform(rng, lo, hi, n):
    return lo + (hi - lo) * rng.random(n)


def fill(template: str, **columns) -> np.ndarray:
    """Vectorised str.format for one template: each {name} is an array of str."""
    parts = template.replace("}", "{").split("{")
    out = None
    for i, part in enumerate(parts):
        piece = np.asarray(columns[part], dtype=object) if i % 2 else part
        out = piece if out is None else out + piece
    if isinstance(out, str):
        n = len(next(iter(columns.values())))
        return np.full(n, out, dtype=object)
    return out
