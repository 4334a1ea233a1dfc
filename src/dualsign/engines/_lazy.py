"""A model loaded once, on first use, after checking that it can be: the glue every adapter needs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from dualsign.engines.base import Availability, EngineUnavailable
from dualsign.runtime import at_base_priority

T = TypeVar("T")


class LazyModel(Generic[T]):
    def __init__(
        self,
        engine: str,
        available: Callable[[], Availability],
        opener: Callable[[], T],
        source: Callable[[], str] | None = None,
    ) -> None:
        """``source`` names what is loaded; when given, a loading error becomes ``EngineUnavailable``."""
        self._engine = engine
        self._available = available
        self._opener = opener
        self._source = source
        self._value: T | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        with self._lock:
            if self._value is None:
                status = self._available()
                if not status.ok:
                    raise EngineUnavailable(self._engine, status.reason)
                # the threads a model starts (CTranslate2's, ONNX Runtime's) keep the process's base
                # priority whichever caller loads it first
                if self._source is None:
                    self._value = at_base_priority(self._opener)
                else:
                    try:
                        self._value = at_base_priority(self._opener)
                    except EngineUnavailable:
                        raise
                    except Exception as exc:  # a broken model file: say which and why
                        raise EngineUnavailable(self._engine, f"cannot load {self._source()}: {exc}") from exc
            return self._value
