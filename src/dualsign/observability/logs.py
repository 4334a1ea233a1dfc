"""Structured logs: one JSON object per line, with secrets and personal numbers masked.

Every record passes ``Redact`` before it is written, whoever logged it (our code, uvicorn's access
log, a library): resident ID numbers, phone numbers, signer-link tokens (in ``/s/…`` paths and
``token=`` queries), API keys and bearer credentials never reach a log line.
"""

from __future__ import annotations

import logging
import re
import sys

from pythonjsonlogger.json import JsonFormatter

_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<![\w.])(\d{4})\d{10}(\d{3}[\dXx])(?![\w.])"), r"\1**********\2"),  # GB 11643 ID numbers
    (re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)"), r"\1****\2"),  # mainland mobile numbers
    (re.compile(r"/s/[A-Za-z0-9._\-]{16,}"), "/s/[token]"),  # the signer link
    (re.compile(r"(token=)[^&\s\"']+"), r"\1[redacted]"),
    (re.compile(r"dsk_[A-Za-z0-9_\-]+"), "dsk_[redacted]"),  # API keys
    (re.compile(r"(?i)(bearer\s+)\S+"), r"\1[redacted]"),
)


def redact(text: str) -> str:
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


class Redact(logging.Filter):
    """Masks the formatted message (and an exception's text) of every record in place."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def configure(fmt: str = "json", level: int = logging.INFO) -> None:
    """Send every logger's records through one redacting handler on stderr (JSON or plain text)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(Redact())
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                datefmt="%Y-%m-%dT%H:%M:%S%z",
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True
