"""Counting executed lines: how a test shows that work grows linearly with a graph's size
without timing it (a count is the same on every run and on any machine). Stdlib only: the
engine's Django-free tests use it too."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any


@contextmanager
def lines_executed(directory: str) -> Iterator[list[int]]:
    """Counts the lines executed in `directory`'s Python files on this thread: read
    `counted[0]` after the block."""
    counted = [0]

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line":
            counted[0] += 1
        return local

    def calls(frame: FrameType, event: str, arg: Any) -> Any:
        return local if frame.f_code.co_filename.startswith(directory) else None

    previous = sys.gettrace()
    sys.settrace(calls)
    try:
        yield counted
    finally:
        sys.settrace(previous)
