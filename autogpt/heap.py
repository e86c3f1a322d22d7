"""The garbage collector and a long-lived process's startup heap."""

import gc


def freeze_startup_heap(*, blocks: bool = True) -> None:
    """Move everything loaded so far (Django, the apps and their modules: objects that live as
    long as the process) out of the cyclic collector's sight. Each full collection walked them
    all: 80-135 ms stalls of the web process and the worker, every few runs of a 1,000-node
    graph. What a request or a run creates is collected as before.

    `blocks`: load the block library first (its modules and one instance of each block), which
    the web and the worker come to use anyway: loaded on first use, it made the first run after
    a start take ~300 ms instead of ~30 (beat never uses it)."""
    if blocks:
        from apps.graphs.blocks.registry import all_blocks

        all_blocks()
    gc.collect()
    gc.freeze()
