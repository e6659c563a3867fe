"""Accessibility basics on every page with a form or an action: a label for every field, a name for every
button and link, no positive tabindex, and text colours with a contrast of at least 4.5:1 (WCAG AA)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.support.builders import make_instance, make_trade

CSS = Path(__file__).resolve().parents[3] / "trading" / "static" / "trading" / "dashboard.css"


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.labels: set[str] = set()
        self.fields: list[dict[str, str]] = []
        self.buttons: list[tuple[dict[str, str], str]] = []
        self.links: list[tuple[dict[str, str], str]] = []
        self.tabindex: list[str] = []
        self._open: list[tuple[str, dict[str, str], list[str]]] = []

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if "tabindex" in a:
            self.tabindex.append(a["tabindex"])
        if tag == "label" and a.get("for"):
            self.labels.add(a["for"])
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit", "button"):
            self.fields.append(a)
        if tag in ("button", "a"):
            self._open.append((tag, a, []))

    def handle_data(self, data):
        for _, _, text in self._open:
            text.append(data)

    def handle_endtag(self, tag):
        if tag in ("button", "a") and self._open and self._open[-1][0] == tag:
            _, a, text = self._open.pop()
            (self.buttons if tag == "button" else self.links).append((a, "".join(text).strip()))


def _check(html: str) -> list[str]:
    page = _Page()
    page.feed(html)
    problems = []
    for field in page.fields:
        if not (field.get("id") in page.labels or field.get("aria-label") or field.get("aria-labelledby")):
            problems.append(f"field without a label: {field}")
    for a, text in page.buttons + page.links:
        if not (text or a.get("aria-label")):
            problems.append(f"button or link without a name: {a}")
    problems += [f"positive tabindex {t}" for t in page.tabindex if t.lstrip("-").isdigit() and int(t) > 0]
    return problems


@pytest.fixture
def pages(paper_account, eurusd):
    instance = make_instance(paper_account, eurusd)
    trade = make_trade(paper_account, eurusd, instance)
    return [
        "/",
        f"/accounts/{paper_account.pk}/",
        f"/accounts/{paper_account.pk}/trades/",
        f"/accounts/{paper_account.pk}/statement/",
        "/instances/new/?strategy=100",
        f"/instances/{instance.pk}/",
        f"/instances/{instance.pk}/edit/",
        f"/trades/{trade.pk}/modify/",
        "/tokens/",
        "/risk/",
        "/backtests/",
        "/backtests/new/",
        "/backtests/optimizations/new/",
        "/backtests/walkforwards/new/",
        "/ops/",
        "/password/",
    ]


def test_every_field_has_a_label_and_every_action_a_name(alice_client, pages):
    problems, fields = {}, 0
    for path in pages:
        response = alice_client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        found = _check(html)
        fields += len(re.findall(r"<(?:select|textarea)\b|<input\b(?![^>]*type=\"(?:hidden|submit)\")", html))
        if found:
            problems[path] = found
    assert problems == {}
    assert fields > 60  # the forms were there to check


def test_the_checker_finds_a_field_without_a_label_and_a_nameless_button():
    problems = _check('<label for="a">A</label><input id="a"><input id="b" name="b"><button><svg></svg></button>')

    assert len(problems) == 2 and "'id': 'b'" in problems[0]


def test_the_sign_in_page_is_labelled(client):
    assert _check(client.get("/login/").content.decode()) == []


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_text_colours_have_at_least_aa_contrast():
    colours = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", CSS.read_text()))
    white = "#ffffff"
    pairs = {
        "text": (colours["fg"], colours["bg"]),
        "muted on white": (colours["muted"], white),
        "muted on the page": (colours["muted"], colours["bg"]),
        "links": (colours["accent"], white),
        "profit": (colours["good"], white),
        "loss": (colours["bad"], white),
        "primary button": (white, colours["accent"]),
        "danger button": (white, colours["bad"]),
        "warning banner": (colours["warn-fg"], colours["warn-bg"]),
        "danger banner": (colours["danger-fg"], colours["danger-bg"]),
        "success badge": (colours["good"], "#dafbe1"),
        "failed badge": (colours["bad"], "#ffebe9"),
        "running badge": ("#0a4fb8", "#ddf4ff"),
    }
    low = {name: round(contrast(*pair), 2) for name, pair in pairs.items() if contrast(*pair) < 4.5}
    assert low == {}
