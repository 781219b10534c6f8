"""Logging: the legacy line format (or JSON) on stderr and an optional rotating file."""

import json
import logging
import logging.handlers
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from app.config import Settings

LEGACY_FORMAT = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False)


_STAMP = re.compile(rb"(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})")


class SizeAndAgeRotatingHandler(logging.handlers.RotatingFileHandler):
    """Rotates when the file exceeds max_bytes or its first record is older than max_age.

    The age is that of the file's first line (not its mtime or ctime, which every write
    refreshes: the legacy tool's age rotation never fired on an active log).
    """

    def __init__(
        self,
        filename: Path,
        *,
        max_bytes: int,
        backup_count: int,
        max_age_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(filename, maxBytes=max_bytes, backupCount=backup_count, encoding="utf-8")
        self.max_age_s = max_age_s
        self.clock = clock
        self.started_at = self._first_record_time(filename)

    def _first_record_time(self, filename: Path) -> float:
        try:
            with filename.open("rb") as handle:
                head = handle.read(200)
        except OSError:
            return self.clock()
        found = _STAMP.search(head)
        if not found:
            return self.clock()
        stamp = f"{found.group(1).decode()} {found.group(2).decode()}"
        return time.mktime(time.strptime(stamp, "%Y-%m-%d %H:%M:%S"))

    def shouldRollover(self, record: logging.LogRecord) -> bool:
        if self.clock() - self.started_at >= self.max_age_s:
            return True
        return bool(super().shouldRollover(record))

    def doRollover(self) -> None:
        super().doRollover()
        self.started_at = self.clock()


def configure_logging(
    settings: Settings, *, stream: TextIO | None = None, verbose: bool = False
) -> None:
    """Install handlers on the root logger according to the settings (stderr by default;
    `rra legacy` logs to stdout like the legacy tool)."""
    formatter: logging.Formatter = (
        JsonFormatter()
        if settings.service.log_format == "json"
        else logging.Formatter(LEGACY_FORMAT)
    )
    handlers: list[logging.Handler] = [logging.StreamHandler(stream)]
    if settings.app.log_file is not None:
        settings.app.log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(
            SizeAndAgeRotatingHandler(
                settings.app.log_file,
                max_bytes=settings.service.log_max_bytes,
                backup_count=settings.service.log_backup_count,
                max_age_s=settings.service.log_max_age_days * 86400,
            )
        )
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else settings.app.log_level)
    for name in ("httpx", "httpcore", "alembic", "apscheduler"):
        logging.getLogger(name).setLevel(max(root.level, logging.WARNING))
