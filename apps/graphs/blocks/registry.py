"""Finds every block in apps.graphs.blocks.library once, and answers by id or alias."""

import importlib
import pkgutil
from functools import cache

from apps.graphs.blocks import library
from apps.graphs.blocks.base import Block


def _subclasses(cls: type[Block]) -> list[type[Block]]:
    found = []
    for sub in cls.__subclasses__():
        if "id" in sub.__dict__:
            found.append(sub)
        found.extend(_subclasses(sub))
    return found


@cache
def _registry() -> tuple[dict[str, Block], dict[str, Block]]:
    for module in pkgutil.iter_modules(library.__path__):
        importlib.import_module(f"{library.__name__}.{module.name}")
    by_id: dict[str, Block] = {}
    by_alias: dict[str, Block] = {}
    for cls in _subclasses(Block):
        if cls.id in by_id:
            raise RuntimeError(
                f"duplicate block id {cls.id}: {cls.__name__}, {type(by_id[cls.id])}"
            )
        block = cls()
        by_id[cls.id] = block
        for alias in cls.aliases:
            by_alias[alias] = block
    return by_id, by_alias


def get_block(block_id: str) -> Block | None:
    by_id, by_alias = _registry()
    return by_id.get(block_id) or by_alias.get(block_id)


def all_blocks() -> list[Block]:
    return sorted(_registry()[0].values(), key=lambda block: block.name)
