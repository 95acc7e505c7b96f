"""Keeping participants out of every log line: query strings and IP addresses are removed.

A participant's link can carry a panel's participant id (``?PROLIFIC_PID=...``) and their request
carries their IP address. Candid's own code never logs either, but Django and gunicorn can: gunicorn
logs the whole request line when a worker times out ("Error handling request GET /s/x/?...") and the
client's address for a malformed request ("Invalid request from ip=..."). This filter rewrites each
record (its message and its traceback) before any handler writes it. It imports nothing from
Django, so gunicorn's configuration can use it before Django starts.
"""

from __future__ import annotations

import logging
import re
import traceback

# "?..." after a path character, up to whitespace or a quote: the query string of a URL or a path.
QUERY_STRING = re.compile(r"(?<=[\w/%.~-])\?[^\s\"'<>]+")
IP_FIELD = re.compile(r"\b(ip|addr|host|client|remote_addr)=[^\s,;]+?(?=[\s,;]|:\s|$)", re.IGNORECASE)
IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
IPV6 = re.compile(r"\[?(?<![\w:])(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?![\w:])\]?", re.IGNORECASE)
REMOVED = "?[removed]"


def _looks_like_ipv6(match: re.Match[str]) -> str:
    text = match.group(0)
    # "12:30:45" is a time, not an address: an address has a letter or a "::".
    return "[address]" if "::" in text or re.search(r"[a-f]", text, re.IGNORECASE) else text


def scrub(text: str) -> str:
    """``text`` without query strings or IP addresses."""
    text = QUERY_STRING.sub(REMOVED, text)
    text = IP_FIELD.sub(lambda m: f"{m.group(1)}=-", text)
    text = IPV4.sub("[address]", text)
    return IPV6.sub(_looks_like_ipv6, text)


class NoParticipantTraces(logging.Filter):
    """A logging filter that scrubs each record's message and traceback (see :func:`scrub`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True
