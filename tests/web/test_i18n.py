"""The words and layout helpers behind the pages, without a browser."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from flask import Flask
from flask_babel import gettext
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from api import charts, i18n, pages
from api.web import language
from ledger.store import StoredCheckpoint

AT = datetime(2026, 11, 25, 9, 30, tzinfo=timezone.utc)


def test_the_public_words_come_from_the_catalogs_in_either_language() -> None:
    """The public pages' words are Flask-Babel messages (English source, Chinese in public.po)."""
    app = Flask(__name__)
    language.init_app(app)
    for lang, heading, count in (("zh-CN", "公开账本", "1,234 条"), ("en", "Public ledger", "1,234 entries")):
        with app.test_request_context(f"/?lang={lang}"):
            assert gettext("Public ledger") == heading
            assert gettext("%(n)s entries", n=i18n.format_count(1234)) == count
    assert not hasattr(i18n, "MESSAGES") and not hasattr(i18n, "translate")


@pytest.mark.parametrize(
    ("requested", "header", "expected"),
    [
        (None, "", "zh-CN"),
        (None, "en-US,en;q=0.9", "en"),
        (None, "de-DE,en;q=0.5,zh;q=0.4", "en"),
        (None, "zh-TW,en;q=0.8", "zh-CN"),
        (None, "fr", "zh-CN"),
        ("en", "zh-CN", "en"),
        ("zh-CN", "en", "zh-CN"),
        ("xx", "en", "en"),
    ],
)
def test_the_language_is_the_query_then_the_preferred_supported_one_then_chinese(
    requested: str | None, header: str, expected: str
) -> None:
    assert i18n.choose(requested, parse_accept_header(header, LanguageAccept)) == expected


def test_times_read_naturally_in_each_language() -> None:
    assert i18n.format_time("zh-CN", AT) == "2026年11月25日 09:30（UTC）"
    assert i18n.format_time("en", AT) == "25 Nov 2026, 09:30 UTC"


def test_paths_get_break_chances_and_stay_escaped() -> None:
    out = pages.breakable("/a/<b>?x=1&y=2")
    assert str(out) == "/<wbr>a/<wbr>&lt;b&gt;<wbr>?x=1<wbr>&amp;y=2"


def _checkpoints(count: int, step: timedelta) -> list[StoredCheckpoint]:
    return [StoredCheckpoint(n * 10, b"", b"", AT + n * step) for n in range(count)]


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("step", [timedelta(hours=1), timedelta(days=1), timedelta(days=30), timedelta(days=400)])
def test_chart_points_stay_inside_the_plot_and_time_labels_do_not_overlap(lang: str, step: timedelta) -> None:
    chart = charts.growth_chart(_checkpoints(12, step), lang)
    assert len(chart.points) == 12
    for point in chart.points:
        assert chart.left <= point.x <= chart.right and chart.top <= point.y <= chart.bottom
    assert chart.y_ticks[0].label == "0" and chart.y_ticks[-1].pos <= chart.points[-1].y
    spans = []
    for tick in chart.x_ticks:
        width = charts._label_width(tick.label)
        start = {"start": tick.pos, "middle": tick.pos - width / 2, "end": tick.pos - width}[tick.anchor]
        spans.append((start, start + width))
    assert spans[0][0] >= chart.left - 1 and spans[-1][1] <= chart.width
    assert all(left[1] < right[0] for left, right in zip(spans, spans[1:]))


def test_a_single_checkpoint_is_drawn_in_the_middle() -> None:
    chart = charts.growth_chart(_checkpoints(1, timedelta(0)), "zh-CN")
    assert [p.x for p in chart.points] == [(chart.left + chart.right) / 2]
    assert [t.label for t in chart.x_ticks] == ["2026年11月25日"]
