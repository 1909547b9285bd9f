"""Numbers as the report and the terminal say them in words."""

from __future__ import annotations


def duration(seconds: float) -> str:
    """`1 h 05 min`, `12 min 30 s` or `45 s`.

    >>> duration(3900), duration(750), duration(45)
    ('1 h 05 min', '12 min 30 s', '45 s')
    """
    seconds = round(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{h} h {m:02d} min"
    if m:
        return f"{m} min {s:02d} s"
    return f"{s} s"
