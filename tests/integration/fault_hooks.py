"""Test-only fault points, loaded into the fault tests' worker (`celery worker --include
tests.integration.fault_hooks`); production code knows nothing of them.

`FAULT_PAUSE_AT` names a point and `FAULT_PAUSE_CALL` which pass through it (1: the first);
on that pass the pool process writes its pid to `FAULT_MARKER` and sleeps, so that the test
SIGKILLs it exactly there, inside the task's open transaction. Once the marker exists no pass
pauses: the redelivered task runs through in the new pool process.
"""

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

POINTS = {
    # Inside the evaluation's one transaction: memberships joined and moved, history written.
    "evaluation.record": ("loyalty.services.evaluation", "_Writer", "record"),
    # Inside a chunk's transaction: its rows written, the job's progress not yet committed.
    "import.chunk": ("crm.services.imports", None, "_chunk_record"),
}
PAUSE_S = 120


def _pause_once(marker: Path) -> None:
    if marker.exists():
        return
    marker.write_text(str(os.getpid()))
    time.sleep(PAUSE_S)


def _wrap(original: Callable[..., Any], *, on_call: int, marker: Path) -> Callable[..., Any]:
    calls = 0

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        result = original(*args, **kwargs)
        calls += 1
        if calls == on_call:
            _pause_once(marker)
        return result

    return wrapped


def install() -> None:
    point = os.environ.get("FAULT_PAUSE_AT", "")
    if point not in POINTS:
        return
    from importlib import import_module

    module_name, class_name, name = POINTS[point]
    module = import_module(module_name)
    owner = getattr(module, class_name) if class_name else module
    on_call = int(os.environ.get("FAULT_PAUSE_CALL", "1"))
    marker = Path(os.environ["FAULT_MARKER"])
    setattr(owner, name, _wrap(getattr(owner, name), on_call=on_call, marker=marker))


install()
