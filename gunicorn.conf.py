"""gunicorn's settings file (read from the working directory): the worker, Prometheus multiprocess mode.

The worker is gunicorn's threaded one (``--threads``), noting when each request arrived, so that
the latency ``/metrics`` reports includes the wait for a free thread (app/serving.py).

With ``PROMETHEUS_MULTIPROC_DIR`` set, every worker writes its metrics in that directory and
``/metrics`` adds them up (app/metrics.py): the directory is emptied when gunicorn starts, and the
files of a worker that exits are retired.
"""

import os
import shutil
from pathlib import Path
from typing import Any

worker_class = "app.serving.ThreadWorker"


def on_starting(_server: Any) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True)


def child_exit(_server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
