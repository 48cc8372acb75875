"""Hand-ins rendered inert: no student HTML or JavaScript runs in the formgrader or the feedback.

A hand-in's outputs are whatever its code displayed (``display(HTML(...))``, ``Javascript(...)``,
``_repr_html_``), and its markdown cells may hold raw HTML. nbgrader renders both as they are:
in the formgrader, on the instructor's Jupyter origin (a script there can use the instructor's
server), and in the student's feedback page. ``SanitizeHandin`` is nbconvert's ``SanitizeHTML``
preprocessor (bleach under it) with an allowlist that keeps what notebooks show (tables, images,
lists, links, code, headings) and removes what runs:

* ``<script>``, ``<style>``, ``<iframe>``, ``<object>``, ``<embed>``, ``<form>``, ... with their content;
* every ``on*`` handler and any attribute not on the list; links other than http(s), mailto and
  ``#``; images other than ``data:image/...`` (so nothing is loaded from elsewhere either);
* ``application/javascript``, widget and other outputs that are neither text, HTML, markdown,
  LaTeX nor an image; image data that is not base64; attachments that are not images.

HTML outputs and raw cells are cleaned. A markdown cell (or ``text/markdown`` output) is rendered
as nbconvert renders it and cleaned; only when that removed something is its source replaced by
the cleaned HTML, with a line saying so (a clean cell keeps its markdown). It runs last in
``Autograde.autograde_preprocessors`` (after the grades are saved: the ``autograded/`` notebook
the formgrader shows is already clean) and after ``HideHiddenTests`` in
``GenerateFeedback.preprocessors``; what it removed is recorded for ``grading_report.csv``.
"""

from __future__ import annotations

import base64
import binascii
import html
import re

from bleach import html5lib_shim
from bleach.css_sanitizer import CSSSanitizer
from bleach.sanitizer import BleachSanitizerFilter, Cleaner
from nbconvert.preprocessors.sanitize import SanitizeHTML
from traitlets import Bool

# elements removed together with everything inside them
DROPPED = frozenset(
    """script style iframe frame frameset object embed applet template noscript noembed
    noframes form textarea select button input link meta base title svg math audio video source portal
    dialog""".split()
)
TAGS = frozenset(
    """a abbr acronym b bdi bdo blockquote br caption center cite code col colgroup dd del
    details dfn div dl dt em figcaption figure font h1 h2 h3 h4 h5 h6 hr i img ins kbd li mark ol p pre q
    rp rt ruby s samp small span strike strong sub summary sup table tbody td tfoot th thead tr tt u ul
    var wbr""".split()
)
EVERYWHERE = frozenset({"class", "title", "style", "lang", "dir", "align"})
PER_TAG = {
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "valign"},
    "th": {"colspan", "rowspan", "valign", "scope"},
    "col": {"span", "width"},
    "colgroup": {"span"},
    "table": {"border", "cellpadding", "cellspacing", "width"},
    "ol": {"start", "type", "reversed"},
    "ul": {"type"},
    "li": {"value"},
    "details": {"open"},
    "font": {"color", "size", "face"},
    **{f"h{n}": {"id"} for n in range(1, 7)},
}  # headings keep the anchors nbconvert gives them
PROTOCOLS = frozenset({"http", "https", "mailto", "data"})  # data: only in <img src> (see _attribute)
IMAGES = frozenset({"image/png", "image/jpeg", "image/gif"})  # base64 in the output
# shown as escaped text, or (SVG) as an <img> of a data: URL by nbconvert's templates: nothing runs
SAFE_OUTPUTS = frozenset(
    {"metadata", "text/plain", "text/latex", "application/json", "image/svg+xml", *IMAGES}
)
NOTE = (
    "<p><em>[coursekit: HTML that feedback and formgrader pages do not show (scripts, event handlers, "
    "frames, styles) was removed from this cell]</em></p>"
)
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")


def _normalized_url(value: str) -> str:
    """The URL as bleach judges it: entities decoded, control characters and spaces gone, lower case."""
    value = html5lib_shim.convert_entities(value)
    return re.sub(r"[^\x00-\x7f]", "", re.sub(r"[`\000-\040\177-\240\s]+", "", value)).lower()


def _attribute(tag: str, name: str, value: str) -> bool:
    """Is this attribute allowed? (bleach then checks URL protocols against ``PROTOCOLS``.)"""
    if name in EVERYWHERE:
        return True
    if name not in PER_TAG.get(tag, ()):
        return False
    if (tag, name) == ("img", "src"):
        return _normalized_url(value).startswith("data:image/")
    if (tag, name) == ("a", "href"):
        return not _normalized_url(value).startswith("data:")
    return True


class _Filter(BleachSanitizerFilter):
    """bleach's sanitizer that also drops the content of ``DROPPED`` elements and notes any change."""

    def __init__(self, *args, changes: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.changes = changes

    def sanitize_stream(self, token_iterator):
        return super().sanitize_stream(self._without_dropped(token_iterator))

    def _without_dropped(self, tokens):
        depth = 0
        for token in tokens:
            kind, name = token["type"], token.get("name")
            if kind in ("StartTag", "EndTag", "EmptyTag") and name in DROPPED:
                if kind != "EndTag":
                    self.changes.append(f"<{name}>")
                depth += {"StartTag": 1, "EndTag": -1}.get(kind, 0)
                depth = max(depth, 0)
                continue
            if depth == 0:
                yield token

    def sanitize_token(self, token):
        if token["type"] in ("StartTag", "EmptyTag") and token["name"] not in self.allowed_tags:
            self.changes.append(f"<{token['name']}>")
        token = super().sanitize_token(token)
        if isinstance(token, dict) and token.get("name") == "img" and (None, "src") not in token["data"]:
            return None  # an image whose source was not allowed shows nothing but a broken frame
        return token

    def allow_token(self, token):
        before = dict(token.get("data") or {})
        token = super().allow_token(token)
        after = token.get("data") or {}
        for key, value in before.items():
            if after.get(key) != value and not (key == (None, "style") and key in after):
                self.changes.append(f"{key[1]}=")  # an attribute dropped: on*, javascript:, ...
            elif key == (None, "style") and _css(after[key]) != _css(value):
                self.changes.append("style=")
        return token


def runs_code(change: str) -> bool:
    """Is this removal one of HTML that could have run (or loaded) something, not only looked different?"""
    if change.startswith("<"):
        return change.strip("<>") in DROPPED - {"style"}
    if change.endswith("="):
        return change.startswith("on") or change in ("href=", "src=")
    return True  # a whole output (application/javascript, a widget), an attachment, image data


def _css(text: str) -> str:
    return re.sub(r"\s+", "", text).rstrip(";").lower()


class HandinCleaner(Cleaner):
    """bleach's ``Cleaner`` with :class:`_Filter`: ``clean_changes(html)`` gives the clean HTML and
    what was removed (an empty list: nothing that could run was there)."""

    def __init__(self):
        super().__init__(
            tags=TAGS,
            attributes=_attribute,
            protocols=PROTOCOLS,
            strip=True,
            strip_comments=True,
            css_sanitizer=CSSSanitizer(),
        )
        # a plain HTML5 parse (bleach's own parser already turns tags it does not allow into text,
        # so the content of a <script> could not be told from the text around it)
        self.parser = html5lib_shim.BleachHTMLParser(
            tags=None, strip=True, consume_entities=False, namespaceHTMLElements=False
        )

    def clean_changes(self, text: str) -> tuple[str, list[str]]:
        if not text:
            return "", []
        changes: list[str] = []
        dom = self.parser.parseFragment(text)
        filtered = _Filter(
            source=self.walker(dom),
            allowed_tags=self.tags,
            attributes=self.attributes,
            strip_disallowed_tags=True,
            strip_html_comments=True,
            css_sanitizer=self.css_sanitizer,
            allowed_protocols=self.protocols,
            changes=changes,
        )
        return self.serializer.render(filtered), changes

    def clean(self, text: str) -> str:
        return self.clean_changes(text)[0]


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _is_base64(value) -> bool:
    text = _text(value)
    if not _BASE64.fullmatch(text):
        return False
    try:
        base64.b64decode(re.sub(r"\s+", "", text), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def markdown_html(source: str, attachments: dict | None = None) -> str:
    """A markdown cell as nbconvert's HTML exporter renders it (raw HTML passes through)."""
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    renderer = IPythonRenderer(escape=False, attachments=attachments or {}, anchor_link_text="¶")
    return MarkdownWithMath(renderer=renderer).render(source)


def _as_html_block(cleaned: str) -> str:
    """Clean HTML as a markdown source that renders to exactly it: one raw HTML block on one line."""
    return "<div>" + NOTE + cleaned.replace("\r", "").replace("\n", "&#10;") + "</div>"


class SanitizeHandin(SanitizeHTML):
    """nbconvert's ``SanitizeHTML`` for hand-ins: see the module."""

    enabled = Bool(True)  # nbconvert's preprocessors are off unless enabled

    def preprocess(self, nb, resources):
        self._cleaner = HandinCleaner()
        self._changed: dict[int, list[str]] = {}
        nb.metadata.pop("widgets", None)  # widget state: rendered as a script by nbconvert's templates
        nb, resources = super().preprocess(nb, resources)
        found = {str(i + 1): sorted({c for c in found if runs_code(c)}) for i, found in self._changed.items()}
        found = {cell: changes for cell, changes in found.items() if changes}
        if found:
            from coursekit.grade.execute import record

            record({"event": "sanitized", "cells": found})
            self.log.warning("HTML that could run code removed from cell(s) %s", ", ".join(found))
        return nb, resources

    def preprocess_cell(self, cell, resources, index):
        self._index = index
        if cell.cell_type == "markdown":
            self._attachments(cell)
            cell.source = self._markdown(_text(cell.source), cell.get("attachments"))
        elif cell.cell_type == "raw":
            cell.source = self._html(_text(cell.source))
        elif cell.cell_type == "code":
            cell.outputs = self.sanitize_code_outputs(cell.get("outputs", []))
        return cell, resources

    def _note(self, changes: list[str]) -> None:
        if changes:
            self._changed.setdefault(self._index, []).extend(changes)

    def _html(self, text: str) -> str:
        cleaned, changes = self._cleaner.clean_changes(text)
        self._note(changes)
        return cleaned if changes else text

    def _markdown(self, source: str, attachments: dict | None = None) -> str:
        try:
            rendered = markdown_html(source, attachments)
        except Exception as err:  # any: what nbconvert cannot render, the page cannot show
            self._note([f"markdown nbconvert cannot render ({type(err).__name__})"])
            return f"<div>{NOTE}<pre>{html.escape(source)}</pre></div>".replace("\n", "&#10;")
        cleaned, changes = self._cleaner.clean_changes(rendered)
        self._note(changes)
        return _as_html_block(cleaned) if changes else source

    def _attachments(self, cell) -> None:
        for name, bundle in list(cell.get("attachments", {}).items()):
            kept = {mime: data for mime, data in bundle.items() if mime in IMAGES and _is_base64(data)}
            if kept != dict(bundle):
                self._note([f"attachment {name}"])
            if kept:
                cell.attachments[name] = kept
            else:
                del cell.attachments[name]

    def sanitize_code_outputs(self, outputs):
        """Clean HTML and markdown outputs; drop scripts, widgets and whatever is not data to show."""
        for output in outputs:
            if output.get("output_type") not in ("display_data", "execute_result"):
                continue  # stream and error outputs are text, escaped by the templates
            data = output.get("data", {})
            for key in list(data):
                if key in IMAGES and not _is_base64(data[key]):
                    self._note([f"{key} that is not base64"])
                    del data[key]
                elif key == "text/html":
                    data[key] = self._html(_text(data[key]))
                elif key == "text/markdown":
                    text = _text(data[key])
                    cleaned = self._markdown(text)
                    if cleaned != text:  # shown as the clean HTML it renders to
                        del data[key]
                        data.setdefault("text/html", cleaned)
                elif key not in SAFE_OUTPUTS:
                    self._note([key])
                    del data[key]
            meta = output.get("metadata", {})
            for value in meta.values():  # file names of images: the templates take them as the source
                if isinstance(value, dict):
                    value.pop("filenames", None)
            meta.pop("filenames", None)
        return outputs
