"""Every word a researcher or analyst reads in the staff templates goes through Django's translation
framework and has a Chinese translation.

Read with Django's own template lexer and parser, not by rendering: a page shows only the branches
its data reach, and an English word in an unreached branch would pass a rendered check.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.template import engines
from django.template.base import Lexer, TokenType
from django.templatetags.i18n import BlockTranslateNode, TranslateNode
from django.utils.translation import trans_real

TEMPLATES = Path(__file__).resolve().parents[2] / "survey" / "templates"
STAFF = sorted(
    [
        *(TEMPLATES / "survey").glob("analyst/*.html"),
        *(TEMPLATES / "survey").glob("claims/*.html"),
        *(TEMPLATES / "survey").glob("results/*.html"),
        *(TEMPLATES / "survey").glob("studio/*.html"),
        *(
            TEMPLATES / "survey" / name
            for name in ("preview.html", "questions.html", "staff_busy.html", "error.html")
        ),
    ]
)
# Words left in English on purpose: file formats, and the design effect's usual abbreviation.
ALLOWED = {
    "survey/claims/report.html": {"PDF", "HTML", "JSON"},
    "survey/results/page.html": {", deff"},
}
MARK = "\x00"
WORD = re.compile(r"[A-Za-z]{2,}")
SHOWN_ATTRIBUTES = re.compile(r"\b(?:aria-label|title|alt|placeholder)=\"([^\"]*)\"")


def untranslated(source: str) -> list[str]:
    """The pieces of text with letters in them that a reader sees and no translate tag wraps: the
    template's text with every tag, variable, comment and translated block put aside, then HTML
    markup taken out (shown attributes such as ``aria-label`` kept)."""
    pieces, inside = [], 0
    for token in Lexer(source).tokenize():
        word = token.contents.split()[0] if token.contents.split() else ""
        if token.token_type == TokenType.BLOCK:
            inside += word in {"blocktranslate", "blocktrans", "comment"}
            inside -= word in {"endblocktranslate", "endblocktrans", "endcomment"}
        pieces.append(token.contents if token.token_type == TokenType.TEXT and not inside else MARK)
    text = re.sub(r"<(script|style)\b.*?</\1>", MARK, "".join(pieces), flags=re.S)
    found = [value for value in SHOWN_ATTRIBUTES.findall(text) if WORD.search(value)]
    text = re.sub(r"<[^>]*>", MARK, text).replace("&nbsp;", " ").replace("&amp;", "&")
    return found + [piece.strip() for piece in text.split(MARK) if WORD.search(piece)]


def name(path: Path) -> str:
    return path.relative_to(TEMPLATES).as_posix()


def test_the_staff_templates_are_all_read():
    assert len(STAFF) > 40 and all(path.exists() for path in STAFF)
    # The check finds English where it is: the allowed words are there, and an unmarked heading is caught.
    for template, words in ALLOWED.items():
        assert set(untranslated((TEMPLATES / template).read_text())) == words, template
    assert untranslated('{% load i18n %}<h2 title="Sum">Monitoring</h2>{% translate "Sample" %}') == [
        "Sum",
        "Monitoring",
    ]
    assert untranslated("<p>{% blocktranslate %}Hello {{ x }}{% endblocktranslate %} {{ y }} · 3</p>") == []


@pytest.mark.parametrize("path", STAFF, ids=name)
def test_every_word_in_a_staff_template_is_marked_for_translation(path):
    left = [piece for piece in untranslated(path.read_text()) if piece not in ALLOWED.get(name(path), set())]
    assert not left, f"{name(path)}: not marked for translation: {left}"


def messages(path: Path) -> list[str]:
    """The message ids of a template's translate and blocktranslate tags, as makemessages takes them."""
    nodelist = engines["django"].engine.get_template(name(path)).nodelist
    found = []
    for node in nodelist.get_nodes_by_type(TranslateNode):
        if node.filter_expression.var.literal is not None and not node.noop:
            found.append(in_context(node, str(node.filter_expression.var.literal)))
    for node in nodelist.get_nodes_by_type(BlockTranslateNode):
        found.append(in_context(node, node.render_token_list(node.singular)[0]))
    return found


def in_context(node: TranslateNode | BlockTranslateNode, message: str) -> str:
    """The catalogue's key: ``context\x04message`` for a message with a context (pgettext)."""
    context = node.message_context
    return f"{context.var}\x04{message}" if context is not None else message


def test_every_staff_message_has_a_chinese_translation():
    catalog = trans_real.translation("zh-hans")._catalog
    ids = {message for path in STAFF for message in messages(path)}
    assert len(ids) > 300
    missing = sorted(m for m in ids if catalog.get(m) is None and catalog.get((m, 0)) is None)
    assert not missing, f"no Chinese translation for: {missing}"


def test_refusals_from_the_services_reach_staff_in_their_language():
    """A change the studio refuses (here, from the questionnaire editor) is explained in the
    reader's language: the services' messages were English constants on the Chinese pages."""
    from django.utils import translation

    from survey.editing import EditError, page_remove

    spec = {"sections": [{"code": "p1", "questions": [{"code": "q1"}]}]}
    with translation.override("zh-hans"), pytest.raises(EditError) as refused:
        page_remove(spec, "p1")
    assert refused.value.message == "页面 'p1' 中还有 1 道题；请先移走或删除"
    with pytest.raises(EditError) as refused:
        page_remove({"sections": [{"code": "p1", "questions": []}]}, "p1")
    assert refused.value.message == "the questionnaire needs at least one page"
    with translation.override("zh-hans"), pytest.raises(EditError) as refused:
        page_remove({"sections": [{"code": "p1", "questions": []}]}, "p1")
    assert refused.value.message == "问卷至少需要一个页面"


CALLS = {
    "_",
    "gettext",
    "gettext_lazy",
    "gettext_noop",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
}


def code_messages() -> set[str]:
    """The message ids marked in the app's and the analysis package's Python code (literal first
    arguments of the gettext family, under any of the names the code imports them as)."""
    import ast

    root = TEMPLATES.parent.parent
    found = set()
    for path in [*(root / "survey").rglob("*.py"), *(root / "analysis").rglob("*.py")]:
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            called = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            literal = [
                a.value for a in node.args[:2] if isinstance(a, ast.Constant) and isinstance(a.value, str)
            ]
            if called in CALLS and literal and isinstance(node.args[0], ast.Constant):
                found.add(f"{literal[0]}\x04{literal[1]}" if called.startswith("pgettext") else literal[0])
    return found


def test_every_message_in_the_code_has_a_chinese_translation():
    catalog = trans_real.translation("zh-hans")._catalog
    ids = code_messages()
    assert len(ids) > 500
    missing = sorted(m for m in ids if catalog.get(m) is None and catalog.get((m, 0)) is None)
    assert not missing, f"no Chinese translation for: {missing}"


@pytest.mark.django_db
def test_the_error_page_is_in_the_readers_language(client):
    """The error page's heading and words went through no translation (English on a Chinese page,
    with a hand-written Chinese line under them); the hand-written line stays for other readers."""
    chinese = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = chinese.content.decode()
    assert chinese.status_code == 404 and "<h1>页面不存在</h1>" in page and "请检查您收到的链接。" in page
    assert "Page not found" not in page and "页面不存在，请检查链接。" not in page
    english = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<h1>Page not found</h1>" in english and "页面不存在，请检查链接。" in english
