"""Logging for `groupipt serve`: uvicorn's access log without calendar-feed secrets or member searches."""
from __future__ import annotations

import logging
import re

_FEED_TOKEN = re.compile(r"(/feeds/)[^/\s\"?]+?(\.ics)")
_LINK_TOKEN = re.compile(r"(/(?:setup|invitations|password-reset)/)[^/\s\"?]+")
# What staff typed to find a member (a name, an address) is personal data, not a log's business.
_MEMBER_SEARCH = re.compile(r"([?&](?:member_)?q=)[^&\s\"#]*")


def mask_secrets(text: str) -> str:
    text = _FEED_TOKEN.sub(r"\1***\2", text)
    text = _MEMBER_SEARCH.sub(r"\1***", text)
    return _LINK_TOKEN.sub(r"\1***", text)


class MaskSecrets(logging.Filter):
    """uvicorn prints the path with its query (tech-notes 5.5); the path here is the secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(mask_secrets(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: mask_secrets(v) if isinstance(v, str) else v for k, v in record.args.items()}
        if isinstance(record.msg, str):
            record.msg = mask_secrets(record.msg)
        return True


def log_config() -> dict:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"mask_secrets": {"()": "server.platform.logconfig.MaskSecrets"}},
        "formatters": {
            "default": {"()": "uvicorn.logging.DefaultFormatter", "fmt": "%(levelprefix)s %(message)s"},
            "access": {
                "()": "uvicorn.logging.AccessFormatter",
                "fmt": '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s',
            },
        },
        "handlers": {
            "default": {"formatter": "default", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
            "access": {
                "formatter": "access",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "filters": ["mask_secrets"],
            },
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
            "groupipt": {"handlers": ["default"], "level": "INFO", "propagate": False},
        },
    }
