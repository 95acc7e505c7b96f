"""What a browser would send back for a form on a page: every field with the value it shows.

A page that cannot be saved unchanged (its own values refused on the way back) is a bug of its own
kind; tests post this data, changed in one field at most, to find it.
"""

from __future__ import annotations

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    def __init__(self, form_id: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.depth = 0
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._multiple = False
        self._options: list[tuple[str, bool]] = []
        self._option: list[str] | None = None
        self._option_selected = False
        self._option_value: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and not self.inside and (self.form_id is None or a.get("id") == self.form_id):
            self.inside, self.depth = True, 1
            return
        if not self.inside:
            return
        if tag == "form":
            self.depth += 1
        name = a.get("name")
        disabled = "disabled" in a
        if tag == "input" and name and not disabled:
            kind = a.get("type", "text").lower()
            if kind in {"submit", "button", "image", "reset", "file"}:
                return
            if kind in {"checkbox", "radio"}:
                if "checked" in a:
                    self.fields.append((name, a.get("value", "on")))
                return
            self.fields.append((name, a.get("value", "")))
        elif tag == "select" and name and not disabled:
            self._select, self._multiple, self._options = name, "multiple" in a, []
        elif tag == "option" and self._select is not None:
            self._option, self._option_value, self._option_selected = [], a.get("value"), "selected" in a
        elif tag == "textarea" and name and not disabled:
            self._textarea, self._text = name, []

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option.append(data)
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if not self.inside:
            return
        if tag == "option" and self._option is not None:
            value = self._option_value if self._option_value is not None else "".join(self._option).strip()
            self._options.append((value, self._option_selected))
            self._option = None
        elif tag == "select" and self._select is not None:
            chosen = [value for value, selected in self._options if selected]
            if not chosen and not self._multiple and self._options:
                chosen = [self._options[0][0]]
            self.fields += [(self._select, value) for value in chosen]
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            # A browser drops the one newline that may follow <textarea>.
            self.fields.append((self._textarea, "".join(self._text).removeprefix("\n")))
            self._textarea = None
        elif tag == "form":
            self.depth -= 1
            if self.depth == 0:
                self.inside = False


def form_fields(html: str, form_id: str | None = None) -> list[tuple[str, str]]:
    """The ``(name, value)`` pairs a browser submits for the form ``form_id`` (the first form if None)."""
    reader = _FormReader(form_id)
    reader.feed(html)
    return reader.fields


def form_data(html: str, form_id: str | None = None) -> dict[str, str | list[str]]:
    """``form_fields`` as a dict for Django's test client (repeated names become lists)."""
    data: dict[str, str | list[str]] = {}
    for name, value in form_fields(html, form_id):
        if name in data:
            existing = data[name]
            data[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            data[name] = value
    return data
