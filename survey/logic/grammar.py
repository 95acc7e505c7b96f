"""The grammar of XLSForm expressions and the errors it reports, each with a character position.

The grammar is XPath 1.0's expression grammar (§3) as XLSForm authors write it: ``${code}`` for a
question, ``.`` for the answer being checked, literals, function calls, and the operators with
XPath's precedence (``or`` < ``and`` < ``=``/``!=`` < ``<``/``<=``/``>``/``>=`` < ``+``/``-`` <
``*``/``div``/``mod`` < unary ``-``). It is parsed by lark's LALR parser, never by ``eval``. Paths
(``/data/q``, ``../q``), predicates, ``|`` and ``$variables`` belong to node-sets, repeats and
secondary instances, which Candid does not have: they are refused with a message that says so.
In a ``choice_filter`` a bare name (``state = ${state}``) is the candidate choice's column.
"""

from __future__ import annotations

from functools import lru_cache

from django.utils.translation import gettext as _
from lark import Lark
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

GRAMMAR = r"""
?start: or_expr

?or_expr: and_expr (_OR and_expr)*
?and_expr: eq_expr (_AND eq_expr)*
?eq_expr: rel_expr
        | eq_expr EQ_OP rel_expr -> comparison
?rel_expr: additive
         | rel_expr REL_OP additive -> comparison
?additive: multiplicative (ADD_OP multiplicative)*
?multiplicative: unary (MUL_OP unary)*
?unary: "-" unary -> neg
      | atom
?atom: NUMBER -> number
     | STRING -> string
     | "${" NAME "}" -> ref
     | "." -> current
     | FUNC_NAME "(" [or_expr ("," or_expr)*] ")" -> call
     | BARE_NAME -> column
     | "(" or_expr ")"

_OR.2: /or\b/
_AND.2: /and\b/
MUL_OP.2: "*" | /div\b/ | /mod\b/
ADD_OP: "+" | "-"
EQ_OP: "!=" | "="
REL_OP: "<=" | ">=" | "<" | ">"
FUNC_NAME.3: /[A-Za-z_][A-Za-z0-9_.-]*(:[A-Za-z_][A-Za-z0-9_.-]*)?(?=\s*\()/
BARE_NAME: /[A-Za-z_][A-Za-z0-9_.-]*/
NAME: /[A-Za-z_][A-Za-z0-9_.-]*/
NUMBER: /\d+(\.\d*)?|\.\d+/
STRING: /'[^']*'/ | /"[^"]*"/

%import common.WS
%ignore WS
"""


class ExpressionError(ValueError):
    """A syntax, reference or support error in an expression, with the character position (0-based)."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return _("%(message)s (at character %(position)d)") % {
            "message": self.message,
            "position": self.position + 1,
        }


@lru_cache(maxsize=1)
def parser() -> Lark:
    return Lark(GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=False)


def describe(error: UnexpectedInput, source: str) -> tuple[str, int]:
    """A researcher's message and position for lark's error."""
    end = len(source)
    paths = _("paths such as /data/code or ../code are not supported: refer to a question as ${code}")
    if isinstance(error, UnexpectedEOF):
        return _("the expression ends too early"), end
    position = getattr(error, "pos_in_stream", None)
    if position is None or position < 0:
        position = end
    if isinstance(error, UnexpectedCharacters):
        char = source[position] if position < end else ""
        if char in "‘’“”":
            return _("unexpected character %(char)r: use straight quotes ' or \"") % {"char": char}, position
        if char == "|":
            return _("the union operator | joins node-sets, which Candid does not have"), position
        if char == "$":
            return _("unexpected '$': refer to a question as ${code}"), position
        if char in "/." or source[position - 1 : position] == ".":
            return paths, position
        if char in "[]":
            return _(
                "predicates [...] select nodes of repeats or secondary instances, which Candid does not have"
            ), (position)
        if char == "'" or char == '"':
            return _("a text in quotes is not closed"), position
        return _("unexpected character %(char)r") % {"char": char}, position
    if isinstance(error, UnexpectedToken):
        if error.token.type == "$END":
            return _("the expression ends too early"), end
        if str(error.token.value) in {".", "/"}:
            return paths, position
        return _("unexpected %(token)r") % {"token": str(error.token.value)}, position
    return _("syntax error"), position
