"""Relevance and constraint expressions read in plain words, for the researcher's editor.

``${age} >= 18 and selected(${scores}, 'sesame')`` reads as
``“How old are you?” ≥ 18 and “Which scores do you use?” includes “Sesame Credit”``: question codes
become their labels, choice codes their choice labels, operators their mathematical signs, and the
functions XLSForm authors use most (``selected``, ``count-selected``, ``not``, ``string-length``,
``regex``, ``if``, ``coalesce``, ``int``, ``today``) a short phrase. The reading follows the tree the server's own parser builds
(:func:`survey.logic.parse`), so it never disagrees with what the server evaluates; a construct it has
no words for is shown as written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from lark import Token, Tree

from .logic import parse

OPERATORS = {"=": "=", "!=": "≠", "<": "<", "<=": "≤", ">": ">", ">=": "≥", "*": "×", "div": "÷"}
MAX_LABEL = 60


@dataclass(frozen=True)
class Vocabulary:
    """What the codes in an expression are called: question labels and, per question, choice labels."""

    labels: Mapping[str, str] = field(default_factory=dict)
    choices: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def quoted(text: str) -> str:
    text = " ".join(text.split())
    return f"“{text[: MAX_LABEL - 1]}…”" if len(text) > MAX_LABEL else f"“{text}”"


def read(source: str, vocabulary: Vocabulary) -> str:
    """``source`` in words; raises :class:`survey.logic.ExpressionError` when it does not parse."""
    return _Reader(source, vocabulary).text(parse(source).tree)


class _Reader:
    def __init__(self, source: str, vocabulary: Vocabulary) -> None:
        self.source = source
        self.vocabulary = vocabulary

    def text(self, node: Tree | Token, *, inner: bool = False, operand: bool = False) -> str:
        """``node`` in words; ``inner``: inside a larger phrase (and/or in parentheses); ``operand``:
        an operand of arithmetic or a comparison (every operation and phrase in parentheses, so that
        ``(a - b) div c`` does not read as ``a − b ÷ c``)."""
        if isinstance(node, Token):
            return self.token(node)
        method = getattr(self, f"node_{node.data}", None)
        if method is None:
            return self.as_written(node)
        result = method(node)
        grouped = {"or_expr", "and_expr"}
        if operand:
            grouped |= {"comparison", "additive", "multiplicative"}
            if node.data == "call" and str(node.children[0]) in {"if", "coalesce"}:
                return f"({result})"
        return f"({result})" if (inner or operand) and node.data in grouped else result

    def as_written(self, node: Tree) -> str:
        meta = node.meta
        if getattr(meta, "empty", True):
            return "…"
        return self.source[meta.start_pos : meta.end_pos]

    def token(self, token: Token) -> str:
        if token.type == "STRING":
            return quoted(str(token)[1:-1])
        return OPERATORS.get(str(token), str(token))

    def question(self, node: Tree | Token) -> str | None:
        """The code when ``node`` is a reference to a question (``${code}``)."""
        return str(node.children[0]) if isinstance(node, Tree) and node.data == "ref" else None

    def value_for(self, code: str | None, node: Tree | Token) -> str:
        """A literal compared with question ``code``: a choice code becomes its label."""
        if code and isinstance(node, Tree) and node.data == "string":
            literal = str(node.children[0])[1:-1]
            label = self.vocabulary.choices.get(code, {}).get(literal)
            if label:
                return quoted(label)
        return self.text(node, operand=True)

    def node_ref(self, node: Tree) -> str:
        code = str(node.children[0])
        label = self.vocabulary.labels.get(code)
        return quoted(label) if label else f"${{{code}}}"

    def node_current(self, node: Tree) -> str:
        return _("this answer")

    def node_number(self, node: Tree) -> str:
        return str(node.children[0])

    def node_string(self, node: Tree) -> str:
        return quoted(str(node.children[0])[1:-1])

    def node_neg(self, node: Tree) -> str:
        return "−" + self.text(node.children[0], inner=True)

    def node_or_expr(self, node: Tree) -> str:
        word = _("or")
        return f" {word} ".join(self.text(child, inner=True) for child in node.children)

    def node_and_expr(self, node: Tree) -> str:
        word = _("and")
        return f" {word} ".join(
            self.text(child, inner=child.data == "or_expr" if isinstance(child, Tree) else False)
            for child in node.children
        )

    def node_comparison(self, node: Tree) -> str:
        left, operator, right = node.children
        op = str(operator)
        empty = isinstance(right, Tree) and right.data == "string" and str(right.children[0]) in {"''", '""'}
        if empty and op in {"=", "!="}:
            subject = self.text(left, inner=True)
            return (_("%(subject)s is not answered") if op == "=" else _("%(subject)s is answered")) % {
                "subject": subject
            }
        code = self.question(left)
        other = self.question(right)
        return " ".join(
            [
                self.value_for(other, left) if other else self.text(left, operand=True),
                OPERATORS.get(op, op),
                self.value_for(code, right),
            ]
        )

    def _arithmetic(self, node: Tree) -> str:
        return " ".join(self.text(child, operand=True) for child in node.children)

    node_additive = _arithmetic
    node_multiplicative = _arithmetic

    def node_call(self, node: Tree) -> str:
        name = str(node.children[0])
        arguments = [child for child in node.children[1:] if child is not None]
        if name == "selected" and len(arguments) == 2:
            return _("%(question)s includes %(choice)s") % {
                "question": self.text(arguments[0], inner=True),
                "choice": self.value_for(self.question(arguments[0]), arguments[1]),
            }
        if name == "count-selected" and len(arguments) == 1:
            return _("the number of choices ticked in %(question)s") % {
                "question": self.text(arguments[0], inner=True)
            }
        if name == "not" and len(arguments) == 1:
            return _("not (%(condition)s)") % {"condition": self.text(arguments[0])}
        if name == "string-length" and len(arguments) == 1:
            return _("the length of %(text)s") % {"text": self.text(arguments[0], inner=True)}
        if name == "regex" and len(arguments) == 2:
            return _("%(text)s matches the pattern %(pattern)s") % {
                "text": self.text(arguments[0], inner=True),
                "pattern": self.text(arguments[1], inner=True),
            }
        if name in {"true", "false"} and not arguments:
            return _("always") if name == "true" else _("never")
        if name in {"today", "now"} and not arguments:
            return _("today")
        if name == "if" and len(arguments) == 3:
            return _("%(then)s if %(condition)s, else %(otherwise)s") % {
                "then": self.text(arguments[1], inner=True),
                "condition": self.text(arguments[0], inner=True),
                "otherwise": self.text(arguments[2], inner=True),
            }
        if name == "coalesce" and len(arguments) == 2:
            return _("%(first)s, or %(second)s when that is empty") % {
                "first": self.text(arguments[0], inner=True),
                "second": self.text(arguments[1], inner=True),
            }
        if name == "int" and len(arguments) == 1:
            return _("the whole part of %(number)s") % {"number": self.text(arguments[0], operand=True)}
        return f"{name}({', '.join(self.text(argument) for argument in arguments)})"
