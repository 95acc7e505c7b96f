"""What changed between two versions of a questionnaire, and which changes break comparability.

Both versions are specs (see :mod:`survey.instrument`); questions, pages and choices are matched by
their stable codes. A question that disappears while another of the same type and wording appears is
reported as a changed code. Comparability — whether answers to the two versions can be pooled or
compared — is broken by a changed or removed choice code of a question both versions ask, a changed
question code or type, and a reworded question that a claim of the study's registry uses (its
published reference figures were measured with the old wording).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .instrument import iter_questions

SETTINGS = (
    "type",
    "required",
    "relevance",
    "constraint",
    "choice_list",
    "randomize",
    "reverse_scale",
    "parameters",
    "calculation",
    "choice_filter",
    "default",
    "read_only",
)


@dataclass
class VersionDiff:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    reworded: list[dict[str, Any]] = field(default_factory=list)
    settings: list[dict[str, Any]] = field(default_factory=list)
    pages_added: list[str] = field(default_factory=list)
    pages_removed: list[str] = field(default_factory=list)
    choices: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(
            (
                self.added,
                self.removed,
                self.renamed,
                self.reworded,
                self.settings,
                self.pages_added,
                self.pages_removed,
                self.choices,
            )
        )


def _questions(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {q["code"]: q for _s, q, _p in iter_questions(spec)}


def _lists(spec: dict[str, Any]) -> dict[str, dict[str, dict[str, str]]]:
    return {cl["name"]: {c["code"]: c["label"] for c in cl["choices"]} for cl in spec["choice_lists"]}


def diff_versions(
    old: dict[str, Any], new: dict[str, Any], *, claim_variables: frozenset[str] = frozenset()
) -> VersionDiff:
    """Questions and choices added, removed, reworded (per language) or recoded between ``old`` and
    ``new``, with a warning (``kind``: ``code``, ``type``, ``choice_code``, ``claim_wording``) for every
    change that breaks comparability."""
    result = VersionDiff()
    before, after = _questions(old), _questions(new)
    added = [code for code in after if code not in before]
    removed = [code for code in before if code not in after]
    for code in list(removed):
        twin = next(
            (
                other
                for other in added
                if after[other]["type"] == before[code]["type"]
                and after[other]["label"] == before[code]["label"]
            ),
            None,
        )
        if twin is not None:
            result.renamed.append((code, twin))
            result.warnings.append({"kind": "code", "code": code, "new": twin})
            removed.remove(code)
            added.remove(twin)
    result.added, result.removed = added, removed
    pairs = [(code, code) for code in before if code in after] + result.renamed
    languages = list(dict.fromkeys([*old["languages"], *new["languages"]]))
    for old_code, new_code in pairs:
        then, now = before[old_code], after[new_code]
        for text_field in ("label", "hint"):
            for language in languages:
                was, is_ = then[text_field].get(language, ""), now[text_field].get(language, "")
                if was != is_:
                    result.reworded.append(
                        {
                            "code": new_code,
                            "field": text_field,
                            "language": language,
                            "before": was,
                            "after": is_,
                        }
                    )
                    if text_field == "label" and new_code in claim_variables:
                        result.warnings.append(
                            {"kind": "claim_wording", "code": new_code, "language": language}
                        )
        changed = [name for name in SETTINGS if then[name] != now[name]]
        if changed:
            result.settings.append({"code": new_code, "fields": changed})
        if then["type"] != now["type"]:
            result.warnings.append(
                {"kind": "type", "code": new_code, "before": then["type"], "after": now["type"]}
            )
    _diff_choices(old, new, pairs, before, after, languages, result)
    old_pages = [s["code"] for s in old["sections"]]
    new_pages = [s["code"] for s in new["sections"]]
    result.pages_added = [code for code in new_pages if code not in old_pages]
    result.pages_removed = [code for code in old_pages if code not in new_pages]
    return result


def _diff_choices(old, new, pairs, before, after, languages, result: VersionDiff) -> None:
    old_lists, new_lists = _lists(old), _lists(new)
    for name in dict.fromkeys([*old_lists, *new_lists]):
        was, is_ = old_lists.get(name, {}), new_lists.get(name, {})
        entry = {
            "list": name,
            "added": [code for code in is_ if code not in was],
            "removed": [code for code in was if code not in is_],
            "relabelled": [
                {
                    "code": code,
                    "language": language,
                    "before": was[code].get(language, ""),
                    "after": is_[code].get(language, ""),
                }
                for code in was
                if code in is_
                for language in languages
                if was[code].get(language, "") != is_[code].get(language, "")
            ],
        }
        if entry["added"] or entry["removed"] or entry["relabelled"]:
            result.choices.append(entry)
    for old_code, new_code in pairs:
        old_list, new_list = before[old_code]["choice_list"], after[new_code]["choice_list"]
        if not old_list or not new_list:
            continue
        lost = [code for code in old_lists.get(old_list, {}) if code not in new_lists.get(new_list, {})]
        if lost:
            result.warnings.append({"kind": "choice_code", "code": new_code, "choices": lost})
