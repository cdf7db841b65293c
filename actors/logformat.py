"""Log lines as JSON, one object a line, for log collectors (``[log] format = "json"``).

Each line has ``time`` (UTC, ISO 8601), ``level``, ``logger`` and ``message``, and, when the
record carries them as ``extra=``, ``activity_id``, ``activity_type``, ``community``,
``peer`` (a record's ``peer``, else the ``host`` the delivery worker names), ``inbox``,
``status``, ``attempt`` and ``remote``. Only those: whatever else a record carries (a
request's headers, a key) stays out of the line.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, Final

FIELDS: Final = (
    "activity_id",
    "activity_type",
    "community",
    "peer",
    "inbox",
    "status",
    "attempt",
    "remote",
)


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON (see the module's docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        fields = record.__dict__
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = fields.get(name)
            if name == "peer" and value is None:
                value = fields.get("host")
            if value is not None:
                line[name] = value if isinstance(value, int | float | bool) else str(value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)


def use_format(name: str, logger: logging.Logger | None = None) -> None:
    """Format the handlers of ``logger`` (the root logger) as ``name`` says: ``json`` or
    ``text`` (left as it is)."""
    if name != "json":
        return
    formatter = JsonFormatter()
    for handler in (logger or logging.getLogger()).handlers:
        handler.setFormatter(formatter)
