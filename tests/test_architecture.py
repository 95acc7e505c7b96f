"""Layout promises: analysis/ never imports Django or the app, so it runs in any notebook."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_analysis_never_imports_django_or_the_app():
    files = list((ROOT / "analysis").rglob("*.py"))
    assert files, "analysis/ has no modules"
    for path in files:
        offending = {
            name for name in imported_modules(path) if name.split(".")[0] in {"django", "survey", "config"}
        }
        assert not offending, f"{path.relative_to(ROOT)} imports {sorted(offending)}"


def test_the_chinese_catalogue_is_complete_and_checked():
    """Every entry of locale/zh_Hans is translated and none is fuzzy: makemessages marks a guess
    from a similar message as fuzzy, Django never shows it, and it is often wrong ("Update the
    report" guessed as "Open the claims report")."""
    import re

    po = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    text = po.read_text(encoding="utf-8")
    entries = text.split("\n\n")[1:]  # the first block is the header
    fuzzy = [
        e.split("msgid ", 1)[-1].split("\n")[0] for e in entries if re.search(r"^#,.*\bfuzzy\b", e, re.M)
    ]
    empty = [
        e.split("msgid ", 1)[-1].split("\n")[0]
        for e in entries
        if re.search(r'^msgstr ""$', e, re.M) and not re.search(r'^msgstr ""\n"', e, re.M)
    ]
    assert not fuzzy, f"fuzzy entries: {fuzzy}"
    assert not empty, f"untranslated entries: {empty}"
