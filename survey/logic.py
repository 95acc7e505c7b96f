"""The XLSForm expression language: parse once, check references, evaluate on the server.

Relevance, constraint and piping use the subset of XPath that XLSForm authors write:
``${q} >= 4 and selected(${m}, 'x')``, ``not(...)``, ``count-selected(${m})``, ``.`` for the
current value, ``div``/``mod``, string and number literals. The grammar below is parsed by lark
(an LALR parser), never by ``eval`` or regular expressions, and every error carries the
0-based character position in the expression so the importer and the admin can point at it.

Values follow ODK's conventions: an unanswered question is the empty string; a multiple
choice answer is a list of choice codes; comparisons are numeric when both sides are numbers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

GRAMMAR = r"""
?start: or_expr

?or_expr: and_expr (_OR and_expr)*
?and_expr: comparison (_AND comparison)*
?comparison: additive (COMP_OP additive)?
?additive: multiplicative (ADD_OP multiplicative)*
?multiplicative: unary (MUL_OP unary)*
?unary: "-" unary -> neg
      | atom
?atom: NUMBER -> number
     | STRING -> string
     | "${" NAME "}" -> ref
     | "." -> current
     | FUNC_NAME "(" [or_expr ("," or_expr)*] ")" -> call
     | "(" or_expr ")"

_OR.2: /or\b/
_AND.2: /and\b/
MUL_OP.2: "*" | /div\b/ | /mod\b/
ADD_OP: "+" | "-"
COMP_OP: "!=" | "<=" | ">=" | "=" | "<" | ">"
FUNC_NAME: /[a-z][a-z0-9_-]*(?=\s*\()/
NAME: /[A-Za-z_][A-Za-z0-9_.-]*/
NUMBER: /\d+(\.\d+)?|\.\d+/
STRING: /'[^']*'/ | /"[^"]*"/

%import common.WS
%ignore WS
"""


class ExpressionError(ValueError):
    """A syntax or reference error in an expression, with the character position (0-based)."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return f"{self.message} (at character {self.position + 1})"


# name -> (minimum args, maximum args or None)
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "selected": (2, 2),
    "count-selected": (1, 1),
    "not": (1, 1),
    "true": (0, 0),
    "false": (0, 0),
    "string-length": (1, 1),
    "regex": (2, 2),
    "contains": (2, 2),
    "starts-with": (2, 2),
    "if": (3, 3),
    "coalesce": (2, 2),
    "number": (1, 1),
    "int": (1, 1),
    "round": (1, 2),
    "concat": (1, None),
    "today": (0, 0),
}


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=False)


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its source, its tree and the question codes it references."""

    source: str
    tree: Tree | Token
    references: tuple[tuple[str, int], ...]  # (code, position) in order of appearance
    uses_current: bool

    def evaluate(self, answers: Mapping[str, Any], current: Any = "") -> Any:
        return _Evaluator(answers, current).visit(self.tree)

    def is_true(self, answers: Mapping[str, Any], current: Any = "") -> bool:
        return to_boolean(self.evaluate(answers, current))


def _describe_unexpected(error: UnexpectedInput, source: str) -> str:
    if isinstance(error, UnexpectedEOF):
        return "the expression ends too early"
    if isinstance(error, UnexpectedCharacters):
        char = source[error.pos_in_stream] if error.pos_in_stream < len(source) else ""
        if char in "‘’“”":
            return f"unexpected character {char!r}: use straight quotes ' or \""
        return f"unexpected character {char!r}"
    if isinstance(error, UnexpectedToken):
        if error.token.type == "$END":
            return "the expression ends too early"
        return f"unexpected {error.token.value!r}"
    return "syntax error"


def parse(source: str) -> Expression:
    """Parse ``source`` or raise :class:`ExpressionError` with the position of the fault."""
    if not source or not source.strip():
        raise ExpressionError("the expression is empty", 0)
    try:
        tree = _parser().parse(source)
    except UnexpectedInput as error:
        message = _describe_unexpected(error, source)
        position = getattr(error, "pos_in_stream", None)
        if position is None or position < 0 or message == "the expression ends too early":
            position = len(source)
        raise ExpressionError(message, position) from None
    references: list[tuple[str, int]] = []
    uses_current = False
    for node in _walk(tree):
        if node.data == "ref":
            name = node.children[0]
            references.append((str(name), name.start_pos - 2))
        elif node.data == "current":
            uses_current = True
        elif node.data == "call":
            _check_call(node)
    return Expression(source, tree, tuple(references), uses_current)


def _walk(tree: Tree | Token):
    if isinstance(tree, Tree):
        yield tree
        for child in tree.children:
            yield from _walk(child)


def _check_call(node: Tree) -> None:
    name_token = node.children[0]
    name = str(name_token)
    arguments = [child for child in node.children[1:] if child is not None]
    if name not in FUNCTIONS:
        known = ", ".join(sorted(FUNCTIONS))
        raise ExpressionError(f"unknown function {name}(); known functions: {known}", name_token.start_pos)
    low, high = FUNCTIONS[name]
    if len(arguments) < low or (high is not None and len(arguments) > high):
        expected = str(low) if low == high else f"{low} or more" if high is None else f"{low} to {high}"
        raise ExpressionError(
            f"{name}() takes {expected} argument(s), not {len(arguments)}", name_token.start_pos
        )


# --- values -------------------------------------------------------------------------------


def to_number(value: Any) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, list):
        return float("nan")
    try:
        return float(str(value).strip())
    except ValueError:
        return float("nan")


def to_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(str(item) for item in value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def to_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return not (value == 0 or (isinstance(value, float) and math.isnan(value)))
    if isinstance(value, list):
        return len(value) > 0
    return value is not None and str(value) != ""


def _is_numeric(value: Any) -> bool:
    if isinstance(value, bool | list) or value is None:
        return False
    return not math.isnan(to_number(value)) and to_string(value) != ""


def _selection(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(item) for item in value]
    text = to_string(value)
    return text.split() if text else []


def _compare(op: str, left: Any, right: Any) -> bool:
    if _is_numeric(left) and _is_numeric(right):
        a: Any = to_number(left)
        b: Any = to_number(right)
    else:
        a, b = to_string(left), to_string(right)
    comparisons: dict[str, Callable[[Any, Any], bool]] = {
        "=": lambda x, y: x == y,
        "!=": lambda x, y: x != y,
        "<": lambda x, y: x < y,
        "<=": lambda x, y: x <= y,
        ">": lambda x, y: x > y,
        ">=": lambda x, y: x >= y,
    }
    return comparisons[op](a, b)


@v_args(inline=True)
class _Evaluator(Transformer):
    """Evaluates a parse tree bottom-up; ``and``/``or`` are not short-circuited (no side effects)."""

    def __init__(self, answers: Mapping[str, Any], current: Any) -> None:
        super().__init__()
        self.answers = answers
        self.current_value = current

    def visit(self, tree: Tree | Token) -> Any:
        if isinstance(tree, Token):
            return self._token(tree)
        return self.transform(tree)

    def _token(self, token: Token) -> Any:
        if token.type == "NUMBER":
            return float(token)
        if token.type == "STRING":
            return str(token)[1:-1]
        return str(token)

    def number(self, token: Token) -> float:
        return float(token)

    def string(self, token: Token) -> str:
        return str(token)[1:-1]

    def ref(self, name: Token) -> Any:
        value = self.answers.get(str(name), "")
        return "" if value is None else value

    def current(self) -> Any:
        return "" if self.current_value is None else self.current_value

    def neg(self, value: Any) -> float:
        return -to_number(value)

    def or_expr(self, *values: Any) -> bool:
        return any(to_boolean(value) for value in values)

    def and_expr(self, *values: Any) -> bool:
        return all(to_boolean(value) for value in values)

    def comparison(self, left: Any, op: Token, right: Any) -> bool:
        return _compare(str(op), left, right)

    def additive(self, *parts: Any) -> float:
        return self._fold(parts)

    def multiplicative(self, *parts: Any) -> float:
        return self._fold(parts)

    def _fold(self, parts: tuple[Any, ...]) -> float:
        result = to_number(parts[0])
        for op, operand in zip(parts[1::2], parts[2::2], strict=True):
            value = to_number(operand)
            match str(op):
                case "+":
                    result += value
                case "-":
                    result -= value
                case "*":
                    result *= value
                case "div":
                    result = result / value if value != 0 else float("nan")
                case "mod":
                    result = math.fmod(result, value) if value != 0 else float("nan")
        return result

    def call(self, name: Token, *arguments: Any) -> Any:
        args = [argument for argument in arguments if argument is not None]
        match str(name):
            case "selected":
                return to_string(args[1]) in _selection(args[0])
            case "count-selected":
                return float(len(_selection(args[0])))
            case "not":
                return not to_boolean(args[0])
            case "true":
                return True
            case "false":
                return False
            case "string-length":
                return float(len(to_string(args[0])))
            case "regex":
                try:
                    return re.search(to_string(args[1]), to_string(args[0])) is not None
                except re.error:
                    return False
            case "contains":
                return to_string(args[1]) in to_string(args[0])
            case "starts-with":
                return to_string(args[0]).startswith(to_string(args[1]))
            case "if":
                return args[1] if to_boolean(args[0]) else args[2]
            case "coalesce":
                return args[0] if to_string(args[0]) != "" else args[1]
            case "number":
                return to_number(args[0])
            case "int":
                number = to_number(args[0])
                return float(math.trunc(number)) if math.isfinite(number) else number
            case "round":
                digits = int(to_number(args[1])) if len(args) > 1 else 0
                return float(round(to_number(args[0]), digits))
            case "concat":
                return "".join(to_string(argument) for argument in args)
            case "today":
                return date.today().isoformat()
        raise ExpressionError(f"unknown function {name}()", name.start_pos)


PIPE_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}")


def piped_codes(text: str) -> list[tuple[str, int]]:
    """The ``${code}`` references in a label, with their positions (labels are not expressions)."""
    return [(match.group(1), match.start()) for match in PIPE_PATTERN.finditer(text or "")]


def pipe(text: str, answers: Mapping[str, Any], display: Callable[[str, Any], str]) -> str:
    """Replace ``${code}`` in a label by ``display(code, answer)``; the caller escapes the result."""
    return PIPE_PATTERN.sub(lambda match: display(match.group(1), answers.get(match.group(1), "")), text)
