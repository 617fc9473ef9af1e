"""The dashboard's catalogue, durations and charts."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta

from wagate.dashboard import charts
from wagate.dashboard.i18n import TEXTS, ago, duration, elapsed, pick_locale, translator


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_locale_has_every_text_with_the_same_fields() -> None:
    english = TEXTS["en"]
    for locale, texts in TEXTS.items():
        assert set(texts) == set(english), locale
        for key, text in texts.items():
            assert fields(text) == fields(english[key]), (locale, key)


def test_durations_read_naturally_in_both_languages() -> None:
    en, ru = translator("en"), translator("ru")
    assert duration(None, en) == "—"
    assert duration(42, en) == "42 s"
    assert duration(125, en) == "2 min 5 s"
    assert duration(120, ru) == "2 мин"
    assert duration(3 * 3600 + 60, en) == "3 h 1 min"
    assert duration(2 * 86400, en) == "2.0 d"


def test_elapsed_time_is_coarse() -> None:
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    en = translator("en")
    assert ago(now - timedelta(seconds=10), now, en) == "just now"
    assert ago(now - timedelta(minutes=5), now, en) == "5 min ago"
    assert ago(now - timedelta(hours=5), now, translator("ru")) == "5 ч назад"
    assert elapsed(now - timedelta(days=2, hours=3), now, en) == "2 d"


def test_the_browser_language_picks_the_sign_in_page_locale() -> None:
    assert pick_locale(None, "ru-RU,ru;q=0.9,en;q=0.8") == "ru"
    assert pick_locale(None, "de-DE") == "en"
    assert pick_locale("en", "ru") == "en"


def test_a_line_chart_escapes_labels_and_breaks_at_missing_values() -> None:
    series = [charts.Series("<median>", "s-median", [60.0, None, 120.0, 90.0])]
    svg = str(charts.line_chart("Response <time>", ["a", "b", "c", "d"], series, lambda v: f"{v:g}s"))
    assert "<title>Response &lt;time&gt;</title>" in svg
    assert "&lt;median&gt;" in svg
    assert svg.count("<circle") == 3
    assert svg.count("<polyline") == 1  # the gap at "b" splits the line; a lone point draws no line


def test_a_bar_chart_draws_one_bar_per_non_zero_value() -> None:
    series = [charts.Series("in", "s-in", [1.0, 0.0, 3.0]), charts.Series("out", "s-out", [2.0, 2.0, 0.0])]
    svg = str(charts.bar_chart("Volume", ["1", "2", "3"], series))
    assert svg.count("<rect") == 4


def test_axes_use_a_few_round_steps() -> None:
    assert charts.axis(0) == (1.0, 0.25)
    assert charts.axis(3, integer=True) == (3.0, 1.0)
    assert charts.axis(5, integer=True) == (6.0, 2.0)
    assert charts.axis(1.3) == (1.6, 0.4)
    assert charts.axis(130) == (160.0, 40.0)
    assert charts.axis(4500) == (4500.0, 1500.0)


def test_thread_date_separators_say_today_yesterday_or_the_date_in_the_tenants_zone() -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from wagate.dashboard.i18n import day_label

    now = datetime(2026, 12, 8, 0, 30, tzinfo=UTC)  # 03:30 in Moscow
    moscow = ZoneInfo("Europe/Moscow")
    t = translator("ru")
    assert day_label(datetime(2026, 12, 7, 22, 0, tzinfo=UTC), moscow, now, t) == "Сегодня"  # 01:00 MSK on the 8th
    assert day_label(datetime(2026, 12, 7, 20, 0, tzinfo=UTC), moscow, now, t) == "Вчера"
    assert day_label(datetime(2026, 12, 1, 12, 0, tzinfo=UTC), moscow, now, t) == "01.12.2026"
    assert day_label(None, moscow, now, t) == ""
