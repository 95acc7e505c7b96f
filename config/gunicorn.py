"""gunicorn's settings for ``make serve`` and the load scripts (``gunicorn -c config/gunicorn.py``).

Logs: the access log prints method, path and status only; every line of the error log goes through
``config.log_filters`` (gunicorn writes the whole request line, query string included, when it
handles an error such as a worker timeout, and the client's address for a malformed request).

Timeout: Django stops a request at ``CANDID_REQUEST_BUDGET_SECONDS`` (20 s) with the "please try
again" page, well before gunicorn's ``timeout`` kills the worker and answers with a bare error.
Options given on the command line or in ``GUNICORN_CMD_ARGS`` override these.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from config.log_filters import NoParticipantTraces

workers = 2
timeout = 30
graceful_timeout = 30
accesslog = "-"
access_log_format = "%(m)s %(U)s %(s)s"
errorlog = "-"


class ParticipantSafeLogger(Logger):
    """gunicorn's logger with every error-log and access-log record scrubbed."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, NoParticipantTraces) for f in log.filters):
                log.addFilter(NoParticipantTraces())


logger_class = ParticipantSafeLogger
# Candid does not use gunicorn's control socket; one shared path per account would make two
# servers on one machine (a load run beside a development server) step on each other.
control_socket_disable = True
