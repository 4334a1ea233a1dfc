"""The loop that runs due jobs in a process: a background thread of the API process
(``DUALSIGN_WORKER=inline``) or the ``dualsign worker`` command polling the job table."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from dualsign.application.outbox.jobs import JobRunner

_log = logging.getLogger("dualsign.jobs")


class WorkerLoop:
    """Runs due jobs until stopped: a thread in the API process, or the ``dualsign worker`` command."""

    def __init__(
        self, runner: JobRunner, poll_seconds: float, on_start: Callable[[], None] | None = None
    ) -> None:
        self.runner, self.poll_seconds, self.on_start = runner, poll_seconds, on_start
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="dualsign-jobs", daemon=True)
        self._thread.start()

    def run(self) -> None:
        if self.on_start is not None:
            self.on_start()
        while not self._stop.is_set():
            try:
                ran = self.runner.run_due()
            except Exception:  # the database went away: try again at the next poll
                _log.exception("job worker: could not claim jobs")
                ran = 0
            if not ran:
                self._stop.wait(self.poll_seconds)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
