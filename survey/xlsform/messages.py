"""Every message the XLSForm reader gives, as constants so that tests assert them and translators find them.

Each goes through gettext (the studio shows it in the researcher's language) and is filled in with
``str.format`` after translation, so translations keep the ``{placeholders}``.
"""

from django.utils.translation import gettext_lazy as _

E_NOT_XLSX = _("the file is not an .xlsx workbook (save it from Excel or LibreOffice as .xlsx)")
E_UNREADABLE_SHEET = _(
    "the sheet cannot be read after row {row} ({error}); save the workbook again from Excel or "
    "LibreOffice as .xlsx"
)
E_NO_SURVEY = _("the workbook has no 'survey' sheet")
E_NO_TYPE_COLUMN = _("the survey sheet has no 'type' column")
E_DUPLICATE_COLUMN = _("column header {header!r} appears twice (also in column {other})")
E_UNSUPPORTED_COLUMN = _("column {header!r} is not supported by Candid; supported columns: {supported}")
E_REFUSED_COLUMN = _("column {header!r} is not supported by Candid: {reason}")
E_MEDIA_COLUMN = _(
    "column {header!r} attaches images, audio or video to a question; Candid shows text only, so "
    "remove the column or leave it empty"
)
E_UNSUPPORTED_TYPE = _("question type {type!r} is not supported; supported types: {supported}")
E_METADATA_TYPE = _(
    "question type {type!r} records device or time metadata, which Candid never collects so that "
    "participants stay anonymous; supported types: {supported}"
)
E_REPEAT = _(
    "{type!r}: repeats are not supported for anonymous surveys (a roster of people or items would "
    "make participants identifiable); ask about the group as a whole or with a fixed number of questions"
)
E_OR_OTHER = _("{type!r} or_other: only select_one and select_multiple can have an 'other' choice")
E_OR_OTHER_FILTER = _(
    "a select with or_other cannot have a choice_filter (pyxform refuses it too); add an 'other' "
    "choice and a text question shown when it is selected"
)
E_NO_TYPE = _("the row has content but no type")
E_NO_NAME = _("a {type} needs a name")
E_BAD_BOOLEAN = _("{column} must be yes or no, not {value!r}")
E_BAD_PARAMETERS = _("parameters must be written as key=value pairs, not {value!r}")
E_UNMATCHED_END = _("{type} without a matching begin_group")
E_UNCLOSED_GROUP = _("group {name!r} is never closed with end_group")
E_NESTED_GROUP = _(
    "group {name!r}: a group inside a page must have appearance 'table-list' (a matrix) or "
    "'list_experiment'; plain nested groups and deeper nesting are not supported"
)
E_TOP_TABLE_LIST = _(
    "group {name!r}: a 'table-list' matrix must sit inside a page group (a begin_group around it)"
)
E_UNKNOWN_SETTING = _("setting {name!r} is not supported; supported settings: {supported}")
E_DUPLICATE_NAME = _("name {name!r} is used twice (also in row {other})")
E_DUPLICATE_CHOICE_ROW = _("choice {name!r} appears twice in list {list_name!r} (also in row {other})")
E_DUPLICATE_CHOICE_ALLOWED = _(
    "choice {name!r} appears twice in list {list_name!r} (also in row {other}); allow_choice_duplicates "
    "is not supported: an answer stores the choice's name, so give each choice its own name (for "
    "example {name}_2) and keep what they share in another column for the choice_filter"
)
E_OR_OTHER_GROUP = _(
    "or_other cannot be used inside matrix or list experiment {name!r}: its 'Specify other' text would "
    "have no row; add an 'other' choice and a text question after the group"
)
E_CHOICE_INCOMPLETE = _("a choice needs a list_name and a name")
E_NO_CHOICES_COLUMN = _("the choices sheet has no {columns} column in its header row (row 1)")
E_MATRIX_CHILD = _("only select_one questions can stand in matrix {name!r}")

# Why a column real forms use is refused, named in E_REFUSED_COLUMN.
REASON_REPEAT_COUNT = _("repeats are not supported for anonymous surveys")
REASON_TRIGGER = _("questions recalculated on a trigger are not supported")
E_FILTER_NO_COLUMN = _(
    "the choice_filter reads column {column!r}, which the {sheet!r} sheet does not have, so it would hide "
    "every choice (a bare word is a column: write a text in quotes, '{column}'); the columns it can read "
    "are: {columns}"
)
# Not a refusal: a notice listed after an import (pyxform only warns about it too).
N_UNTRANSLATED = _("no {field} in {language}: readers of {language} see the {default} one")
