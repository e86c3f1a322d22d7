"""Dynamic pins (SPEC §6): `name_$_0` (list item), `name_#_key` (dict entry), `name_@_attr`
(object attribute). On a sink they assemble one input; on a link's source they pick a part."""

from collections.abc import Mapping
from typing import Any

from apps.common.numbers import parse_int

LIST = "_$_"
DICT = "_#_"
OBJECT = "_@_"
_SEPARATORS = (LIST, DICT, OBJECT)
_MISSING = object()


def split_pin(name: str) -> tuple[str, str | None, str]:
    """`values_#_name` → ("values", "_#_", "name"); a plain pin → (name, None, "")."""
    found = [(name.find(separator), separator) for separator in _SEPARATORS if separator in name]
    if not found:
        return name, None, ""
    index, separator = min(found)
    return name[:index], separator, name[index + len(separator) :]


def _list_position(suffix: str) -> tuple[int, int]:
    # Numeric suffixes sort numerically; others keep their arrival order after them.
    position = parse_int(suffix)
    return (0, position) if position is not None else (1, 0)


def assemble_inputs(defaults: Mapping[str, Any], received: Mapping[str, Any]) -> dict[str, Any]:
    """The block's input: defaults, overridden by linked values, dynamic pins assembled."""
    data = dict(defaults)
    groups: dict[str, list[tuple[str, str, Any]]] = {}
    for name, value in received.items():
        base, separator, suffix = split_pin(name)
        if separator is None:
            data[name] = value
        else:
            groups.setdefault(base, []).append((separator, suffix, value))
    for base, parts in groups.items():
        if parts[0][0] == LIST:
            ordered = sorted(parts, key=lambda part: _list_position(part[1]))
            data[base] = [value for _, _, value in ordered]
        else:
            current = data.get(base)
            merged = dict(current) if isinstance(current, Mapping) else {}
            merged.update({suffix: value for _, suffix, value in parts})
            data[base] = merged
    return data


def pick(value: Any, source_name: str) -> Any:
    """The part of an output a link's source pin names; _MISSING when it has no such part."""
    _, separator, suffix = split_pin(source_name)
    if separator is None:
        return value
    if separator == LIST:
        index = parse_int(suffix, signed=True)
        if isinstance(value, list | tuple) and index is not None:
            return value[index] if -len(value) <= index < len(value) else _MISSING
        return _MISSING
    if isinstance(value, Mapping):
        return value.get(suffix, _MISSING)
    if separator == OBJECT:
        return getattr(value, suffix, _MISSING)
    return _MISSING


def is_missing(value: Any) -> bool:
    return value is _MISSING
