"""The one integer parser and the one integer bound of the project.

`str.isdigit()` is true for "³" and "①", which `int()` then refuses, and `int()` itself takes
"١٢", " 7 " and "1_000": text from outside is parsed here instead, as ASCII digits only. JSON
integers are held to 64 bits (what PostgreSQL bigint, msgpack and most clients carry).

Plain Python without Django: the engine imports it too (an import-linter exception names it).
"""

import re

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

# 19 digits hold every 64-bit value; longer text is refused before int() sees it.
_INTEGER = re.compile(r"-?[0-9]{1,19}", re.ASCII)
_NATURAL = re.compile(r"[0-9]{1,19}", re.ASCII)


def parse_int(text: str | None, *, signed: bool = False) -> int | None:
    """The 64-bit integer `text` spells in ASCII digits (with a leading "-" when `signed`), else
    None. No spaces, signs, underscores or non-ASCII digits."""
    if not isinstance(text, str):
        return None
    pattern = _INTEGER if signed else _NATURAL
    if pattern.fullmatch(text) is None:
        return None
    value = int(text)
    return value if INT64_MIN <= value <= INT64_MAX else None


def in_int64(value: int) -> bool:
    return INT64_MIN <= value <= INT64_MAX
