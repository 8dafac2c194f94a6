"""Jobs for the queue's tests. Each records its run by appending a line to a file: a counter
with no constraint at all, so a job run twice would show as two lines."""

import time
from pathlib import Path

from django_tasks import TaskContext, task


def record(path: str, label: str, context: TaskContext) -> None:
    with Path(path).open("a") as log:
        log.write(f"{label} {context.task_result.worker_ids[-1]}\n")


@task(takes_context=True)
def record_run(context: TaskContext, path: str, label: str, sleep: float = 0) -> str:
    """Sleep (a job still running when its worker is killed), then record the run."""
    time.sleep(sleep)
    record(path, label, context)
    return label


@task(takes_context=True)
def slow_first_time(context: TaskContext, path: str, label: str) -> str:
    """The first attempt sleeps (long enough to be killed in); later ones finish at once."""
    started = Path(f"{path}.started")
    if not started.exists():
        started.touch()
        time.sleep(60)
    record(path, label, context)
    return label


@task(takes_context=True)
def fail(context: TaskContext, path: str, label: str) -> None:
    record(path, label, context)
    raise ValueError(f"{label} cannot be done")


@task()
def periodic_noop() -> str:
    return "tick"


def runs(path: Path) -> list[tuple[str, str]]:
    """(label, worker id) of every recorded run."""
    if not path.exists():
        return []
    return [tuple(line.split(" ", 1)) for line in path.read_text().splitlines()]
