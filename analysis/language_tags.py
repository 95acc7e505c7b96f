"""BCP 47 language tags (RFC 5646) and the one lookup (RFC 4647 §3.4) that picks a text for a reader.

Without Django, so that ``analysis`` (codebooks, exports) and ``survey`` (participant pages, the studio)
read ``{tag: text}`` dictionaries alike: a questionnaire written in ``zh-CN`` serves a study's ``zh-Hans``
reader. ``survey.languages`` re-exports these.
"""

from __future__ import annotations

import re

# Questionnaires name their languages with BCP 47 tags (RFC 5646): ``en``, ``zh-CN``, ``zh-Hans``,
# ``pt-BR``. Chinese is told apart by script, not region: every tag below reads Simplified Chinese.
TAG_PATTERN = re.compile(r"^(?:[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*|[xX](?:[-_][A-Za-z0-9]{1,8})+)$")

# Tags whose texts are Simplified (or Traditional) Chinese whatever region they name (BCP 47: a
# script subtag wins; without one, the region decides, as CLDR's likely subtags do).
_SIMPLIFIED_REGIONS = {"cn", "sg", "my"}
_TRADITIONAL_REGIONS = {"tw", "hk", "mo"}


def normalize_tag(tag: str) -> str:
    """``tag`` in BCP 47's conventional case (RFC 5646 §2.1.1): ``zh-cn`` → ``zh-CN``, ``zh_hans`` → ``zh-Hans``.

    Raises ``ValueError`` when ``tag`` is not shaped like a language tag.
    """
    tag = tag.strip()
    if not TAG_PATTERN.match(tag):
        raise ValueError(tag)
    parts = tag.replace("_", "-").split("-")
    result = [parts[0].lower()]
    # After a singleton (``x-``, ``u-``), and in a private-use tag, subtags are not scripts or regions.
    extension = len(parts[0]) == 1
    for part in parts[1:]:
        if extension or len(part) == 1:
            extension = True
            result.append(part.lower())
        elif len(part) == 4 and part.isalpha():
            result.append(part.title())  # script
        elif (len(part) == 2 and part.isalpha()) or (len(part) == 3 and part.isdigit()):
            result.append(part.upper())  # region
        else:
            result.append(part.lower())
    return "-".join(result)


def chinese_script(tag: str) -> str | None:
    """``Hans`` or ``Hant`` for a Chinese tag (by its script, else its region; bare ``zh`` is Simplified)."""
    parts = normalize_tag(tag).split("-")
    if parts[0] != "zh":
        return None
    for part in parts[1:]:
        if part in {"Hans", "Hant"}:
            return part
        if part.lower() in _TRADITIONAL_REGIONS:
            return "Hant"
    return "Hans"


def _family(tag: str) -> str:
    """What a reader of ``tag`` reads: ``zh-Hans``/``zh-Hant`` for Chinese, the tag itself otherwise."""
    script = chinese_script(tag)
    return f"zh-{script}" if script else normalize_tag(tag).lower()


def lookup(ranges: list[str], available: list[str], default: str) -> str:
    """The available tag a reader of ``ranges`` (most preferred first) should get (RFC 4647 §3.4 lookup).

    Each range is tried as written, then (for Chinese) as its script (``zh-CN`` → ``zh-Hans``), then
    truncated a subtag at a time (``zh-Hans-CN`` → ``zh-Hans`` → ``zh``). A tag matches an available tag
    written in the same case-insensitive form or, for Chinese, of the same script, so that a study
    written in ``zh-CN`` serves ``zh``, ``zh-SG`` and ``zh-Hans`` readers alike; last, as Django does,
    any available tag of the same language (``pt`` → ``pt-BR``). ``*`` ranges and malformed ones are
    skipped; ``default`` when nothing matches.
    """
    offered = []
    for tag in available:
        try:
            offered.append((tag, normalize_tag(tag).lower(), _family(tag)))
        except ValueError:
            continue
    for raw in ranges:
        try:
            tag = normalize_tag(raw)
        except ValueError:
            continue
        chain = [tag]
        if chinese_script(tag):
            chain.append(f"zh-{chinese_script(tag)}")
        parts = tag.split("-")
        # Truncated a subtag at a time; a range left ending in a singleton (``x``) is dropped too (§3.4).
        chain += ["-".join(parts[:end]) for end in range(len(parts) - 1, 0, -1) if len(parts[end - 1]) > 1]
        for candidate in chain:
            for original, lowered, _family_of in offered:
                if lowered == candidate.lower():
                    return original
            if chinese_script(candidate):
                for original, _lowered, family in offered:
                    if family == _family(candidate):
                        return original
        # Beyond RFC 4647, as Django does: a ``pt`` reader gets ``pt-BR`` rather than the default.
        for original, lowered, _family_of in offered:
            if len(parts[0]) > 1 and lowered.split("-")[0] == parts[0]:
                return original
    return default


def text_for(texts: dict[str, str], language: str) -> str:
    """The text of ``texts`` ({tag: text}) that a reader of ``language`` gets by :func:`lookup` (a
    ``zh-hans`` page reads a ``zh`` text), or "" when no non-empty text matches."""
    available = [tag for tag, text in texts.items() if text]
    found = lookup([language], available, "")
    return texts[found] if found else ""


def text_in(texts: dict[str, str], language: str, default: str = "") -> str:
    """The text a reader of ``language`` gets: by :func:`lookup` among the non-empty texts, else the
    ``default`` language's (as a label missing in one language is shown), else "".

    Every read of a questionnaire text by language goes through here, so that a form written in
    ``zh-CN`` serves a study's ``zh-Hans`` reader (and ``zh``, ``zh-SG``) as its own tag would.
    """
    return text_for(texts, language) or (text_for(texts, default) if default else "")
