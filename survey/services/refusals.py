"""What of a failed build a person reads: Candid's own refusals as they are worded, and for any other
error (a library's words — numpy's "need at least one array to concatenate", pandas' key errors)
one general message, with the error and its traceback logged for the maintainers.

A service raises :class:`Refused` (or a kind of it) with a message written for the person who asked;
a catch site that shows an error to someone passes it through :func:`problem_of`, never ``str()``.
"""

from __future__ import annotations

import logging

from django.utils.translation import gettext_noop

logger = logging.getLogger("candid.errors")

E_FAILED = gettext_noop(
    "Candid could not build this from the data: the error is logged for the site's maintainers."
)
# The errors a computation on data it did not expect raises (numpy, pandas, the analysis code).
COMPUTATION_ERRORS: tuple[type[Exception], ...] = (ValueError, ArithmeticError, LookupError, TypeError)


class Refused(ValueError):
    """A request refused for a reason Candid words itself, translated where it is raised (or a
    message id each reader's page translates): its text may be shown as it is."""


def problem_of(error: Exception, *, doing: str) -> str:
    """``error``'s text when it is a :class:`Refused`, else :data:`E_FAILED` (a message id: the page
    reads it in the reader's language, ``disclosure.in_words``), the error logged with ``doing``
    (what was being built) and its traceback."""
    if isinstance(error, Refused):
        return str(error)
    logger.error("%s failed: %s", doing, type(error).__name__, exc_info=error)
    return E_FAILED
