"""The participant pages' messages that views choose by name (page titles and bodies, withdrawal
outcomes). Each is an English msgid translated through Django's gettext (``locale/<lang>``); the
words of the templates are translated in the templates themselves. Questionnaire texts come from
the study, not from here.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .languages import django_locale

MESSAGES: dict[str, Promise] = {
    "declined_title": _("Thank you"),
    "declined_body": _(
        "You chose not to take part. Nothing you entered has been kept. You can close this page."
    ),
    "thanks_title": _("Thank you — your answers are saved"),
    "receipt_warning": _(
        "With this code you can withdraw your answers until %(date)s. Anyone who finds the code can "
        "see that you took part in this survey: keep it private, or do not keep it."
    ),
    "receipt_warning_no_date": _(
        "With this code you can withdraw your answers while the study keeps them. Anyone who finds "
        "the code can see that you took part in this survey: keep it private, or do not keep it."
    ),
    "receipt_file": _(
        "Withdrawal receipt code: %(code)s\n\nTo withdraw your answers, enter it at %(address)s\n\n%(warning)s\n"
    ),
    "continue_malformed": _(
        "That does not look like a code to continue. It starts with the study number, such as "
        "12-K7QWM-…: please enter all of it."
    ),
    "continue_unknown": _(
        "No answers in progress are kept under this code. A code works once: if you used it "
        "already, ask for a new one on the device where you are answering now."
    ),
    "continue_rate": _("Too many attempts in the last minute. Please wait a minute and try again."),
    "closed_title": _("This survey is closed"),
    "closed_body": _("This survey is not taking answers now. Thank you for your interest."),
    "not_open_body": _("This survey has not opened yet. Please come back later."),
    "done_body": _("You have already completed this survey on this device. Thank you."),
    "finished_title": _("Thank you"),
    "finished_body": _(
        "You have finished this survey. The receipt code is not shown again: if you saved it, you can "
        "still use it to withdraw your answers. You can close this page."
    ),
    "withdrawn_body": _(
        "Your answers to this survey were withdrawn and deleted on this device. Nothing more is needed "
        "from you."
    ),
    "ended_title": _("Thank you for your time"),
    "ended_body": _(
        "This visit to the survey has ended and nothing more is needed from you. You can close this page."
    ),
    "withdraw_title": _("Withdraw your answers"),
    "withdraw_deleted": _(
        "Your answers have been deleted for good. This receipt code no longer works, and there is "
        "nothing more to do."
    ),
    "withdraw_not_found": _(
        "No answers are kept under this code. If you withdrew them before, they are already "
        "deleted; otherwise please check that this is the code you were shown when you finished."
    ),
    "withdraw_typo_group": _(
        "This code has a typo in group %(group)s (counting the groups of letters and digits after "
        "the study number). Please check that group against the code you were shown."
    ),
    "withdraw_typo_study": _(
        "The study number at the start of this code does not fit the rest of it. Please check it."
    ),
    "withdraw_typo": _("This code has a typo. Please check the whole code against the code you were shown."),
    "withdraw_frozen": _(
        "The data of this study were fixed for analysis on the announced date, so answers can no "
        "longer be withdrawn."
    ),
    "withdraw_rate": _("Too many attempts in the last minute. Please wait a minute and try again."),
    "withdraw_empty": _("Please enter the receipt code you were shown when you finished."),
    "withdraw_bad_characters": _(
        "A receipt code has only the letters A to Z, the digits 2 to 7 and hyphens after the study "
        "number, so “%(characters)s” cannot be part of it. Please check what you typed (the letter "
        "O, not the digit 0; the letter I, not the digit 1)."
    ),
    "withdraw_no_study": _(
        "A receipt code starts with the study number and a hyphen, such as 12-K7QWM-…. Please enter "
        "the whole code."
    ),
    "withdraw_bad_length": _(
        "A receipt code has %(expected)s letters and digits after the study number; this one has "
        "%(found)s. Please check that you copied all of it."
    ),
    "withdraw_mistyped": _("No receipt code ends like this one. Please check its last characters."),
    "withdraw_malformed": _("That does not look like a receipt code. Please check it and try again."),
    "consent_elsewhere": _(
        "This consent form was opened in another browser, or this browser did not keep its cookies "
        "(the survey needs one to keep your place). Nothing was recorded. Please read the "
        "information and agree again here."
    ),
    "trouble_title": _("Something went wrong"),
    "out_of_order": _("That page is not available yet. Continue from where you are."),
    "session_invalid": _(
        "This link or session is not valid for this survey. Please start again from the survey link."
    ),
    "bad_request": _("The form sent was not one this page expects. Please reload the page and try again."),
}
# Each language's name in itself, for the language switch (not translated: a reader looks for their own).
LANGUAGE_NAMES = {"en": "English", "zh": "中文", "zh-Hans": "中文", "zh-CN": "中文"}


def text(key: str, language: str, **values: str | int) -> str:
    """The message ``key`` in the study language ``language`` (English where no catalogue has it)."""
    with translation_for(language):
        message = str(MESSAGES[key])
        return message % values if values else message


def translation_for(language: str):
    """A context manager activating the Django locale of a study language (``zh-CN`` -> ``zh-hans``)."""
    from django.utils import translation

    return translation.override(django_locale(language))
