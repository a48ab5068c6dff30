"""A worker process beside each web worker for the CPU-heavy part of staff pages (the figure set, charts, the report's
HTML and PDF). In a thread, pure-Python work (matplotlib, fpdf2, many small numpy calls) holds the interpreter lock,
and citizens' form posts on the same worker waited hundreds of milliseconds (benchmarks/province_scale.py); in a
process it cannot. Used when `survey serve` starts the app (app.create_app_from_env sets ENABLED); otherwise (tests,
scripts) the same functions run in a thread, where a test may count or replace them.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

ENABLED = False
_pool: ProcessPoolExecutor | None = None


async def run(function: Callable, *arguments):
    """function(*arguments) in the worker process when ENABLED (a module-level function, picklable arguments),
    else in a thread. A worker that died (killed for memory) is replaced at the next call."""
    global _pool
    if not ENABLED:
        return await asyncio.to_thread(function, *arguments)
    if _pool is None:
        _pool = new_pool()
    try:
        return await asyncio.get_running_loop().run_in_executor(_pool, function, *arguments)
    except BrokenProcessPool:
        _pool = None
        raise


def new_pool() -> ProcessPoolExecutor:
    """One spawned worker that ends with its parent, even one killed with SIGKILL (no orphan keeps its memory)."""
    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                               initializer=exit_with_parent, initargs=(os.getpid(),))


def exit_with_parent(parent_pid: int) -> None:
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def _import_heavy_modules() -> None:
    import matplotlib.figure  # noqa: F401
    import fpdf  # noqa: F401

    import analysis.aggregates  # noqa: F401


async def start() -> None:
    """Start the worker and import what it draws with, in the background: the first staff page then waits for
    neither (seconds on a small machine)."""
    if ENABLED:
        asyncio.ensure_future(run(_import_heavy_modules))


def stop() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=True, cancel_futures=True)  # joined: its queues and semaphores are released, not leaked
        _pool = None
