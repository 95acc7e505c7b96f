"""Variable names that every statistics package accepts, unique within each format.

Candid's codes are XLSForm names (any letters, ``-`` and ``.`` included) and a multiple choice adds one
column per choice code (``fruit__苹果``), so a code can be illegal, reserved or too long in SPSS or Stata,
and two codes can become one name when sanitised (``a-b`` and ``a_b``; ``苹果`` and ``香蕉``). The rule,
applied per format (SPSS ``sav``, Stata ``dta``; the other formats keep the codebook's names):

1. every character other than an ASCII letter, digit or ``_`` becomes ``_``; a name that then does
   not start with a letter gets a ``v`` in front;
2. a name that step 1 changed, that is reserved in the format, that is too long for it (Stata: 32
   characters; SPSS: 64 bytes) or that equals another name (SPSS compares without case, Stata with
   it) is cut to leave room and given ``_`` + the first 6 hex digits of the SHA-256 of its original
   name — so ``a-b`` and ``a_b`` differ, and a name does not depend on which other names exist
   unless two of them would be equal;
3. should two names still be equal (a hash collision), the later one gets ``_2``, ``_3``, ...

The original name is kept as the variable label's prefix (SPSS) or note (Stata), and the codebook
lists both. Reserved words: Stata [U] 11.3 "Naming conventions"; IBM SPSS Statistics Command Syntax
Reference, "Reserved keywords".
"""

from __future__ import annotations

import hashlib
import re

MAX_LENGTH = {"sav": 64, "dta": 32}
CASE_FOLDED = {"sav": True, "dta": False}
RESERVED = {
    "dta": frozenset(
        [
            "_all",
            "_b",
            "byte",
            "_coef",
            "_cons",
            "double",
            "float",
            "if",
            "in",
            "int",
            "long",
            "_n",
            "_N",
            "_pi",
            "_pred",
            "_rc",
            "_skip",
            "strL",
            "str",
            "using",
            "with",
        ]
    ),
    "sav": frozenset(["ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH"]),
}
_ILLEGAL = re.compile(r"[^A-Za-z0-9_]")
_STATA_STR = re.compile(r"str[0-9]+")
HASH_DIGITS = 6


def _reserved(name: str, fmt: str) -> bool:
    if fmt == "sav":
        return name.upper() in RESERVED["sav"]
    return name in RESERVED["dta"] or bool(_STATA_STR.fullmatch(name))


def _key(name: str, fmt: str) -> str:
    return name.casefold() if CASE_FOLDED[fmt] else name


def _hashed(original: str, base: str, limit: int) -> str:
    digest = hashlib.sha256(original.encode("utf-8")).hexdigest()[:HASH_DIGITS]
    return f"{base[: limit - HASH_DIGITS - 1]}_{digest}"


def legal_names(names: list[str], fmt: str) -> dict[str, str]:
    """``{original: legal name}`` for SPSS (``fmt="sav"``) or Stata (``"dta"``), by the module's rule.

    Every value is ASCII, starts with a letter, fits the format's length, is not reserved and is
    unique (case-insensitively for SPSS). Raises ``ValueError`` for another format.
    """
    if fmt not in MAX_LENGTH:
        raise ValueError(f"no naming rule for format {fmt!r}")
    limit = MAX_LENGTH[fmt]
    plain: dict[str, str] = {}
    for name in names:
        safe = _ILLEGAL.sub("_", name)
        plain[name] = safe if safe[:1].isalpha() else "v" + safe
    counts: dict[str, int] = {}
    for safe in plain.values():
        counts[_key(safe, fmt)] = counts.get(_key(safe, fmt), 0) + 1
    result: dict[str, str] = {}
    taken: set[str] = set()
    for name, safe in plain.items():
        if safe != name or _reserved(safe, fmt) or len(safe) > limit or counts[_key(safe, fmt)] > 1:
            safe = _hashed(name, safe, limit)
        candidate, n = safe, 1
        while _key(candidate, fmt) in taken:
            n += 1
            candidate = f"{safe[: limit - len(str(n)) - 1]}_{n}"
        taken.add(_key(candidate, fmt))
        result[name] = candidate
    return result
