"""Modules imported on first use instead of at start-up.

Every process of the platform (web, worker, beat) imports the block library, but only a run of
an AI block or chat needs the `openai` client, whose import alone costs ~40 MiB of memory and a
third of a second per process. Plain Python: no Django.
"""

import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    """`name` as a module that is really imported at its first attribute access (or at once,
    when it already was)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module
