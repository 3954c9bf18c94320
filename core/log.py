"""Logging filters used by ``settings.LOGGING``."""

import logging


class ClientErrorsWithoutTraceback(logging.Filter):
    """Drop the traceback from a 4xx response's log line (a 403, a 400): one line, no stack.

    Django logs PermissionDenied, BadRequest and SuspiciousOperation with the exception
    attached, so an ordinary "you may not open this page" printed twenty lines of traceback.
    5xx responses and every other record keep theirs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is not None and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
