"""Date and time builtins: documented examples, the run's clock, and error cases."""

from __future__ import annotations

from datetime import datetime

import pytest

from .support import NOW, error_of, ev, run


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("addDays('20.08.2019', 99)", "27.11.2019"),
        ("addDays('20.08.2019', -99)", "13.05.2019"),
        ("addDays('31.12.2021', 1)", "01.01.2022"),
        ("addDays('28.02.2020', '1')", "29.02.2020"),
        ("addDays('1.2.2021', 0)", "01.02.2021"),
        ("addDays('31.12.2021 23:30', 1)", "01.01.2022 23:30"),
        ("add_days('10.10.2021', 5)", "15.10.2021"),
        ("addMonth('15.01.2021', 1)", "15.02.2021"),
        ("addMonth('31.01.2021', 1)", "28.02.2021"),
        ("addMonth('31.01.2020', 1)", "29.02.2020"),
        ("addMonth('31.03.2021', -1)", "28.02.2021"),
        ("addMonth('15.11.2021', 14)", "15.01.2023"),
        ("add_month('15.01.2021', -13)", "15.12.2019"),
        ("addYear('15.06.2021', 1)", "15.06.2022"),
        ("addYear('29.02.2020', 1)", "28.02.2021"),
        ("addYear('29.02.2020', 4)", "29.02.2024"),
        ("add_year('01.01.2021', -21)", "01.01.2000"),
        ("addMinutes('20:08', 30)", "20:38"),
        ("addMinutes('20:08', -30)", "19:38"),
        ("addMinutes('23:50', 20)", "00:10"),
        ("addMinutes('00:10', -20)", "23:50"),
        ("addMinutes('9:05', 1440)", "09:05"),
        ("addMinutes('31.12.2021 23:50', 20)", "01.01.2022 00:10"),
        ("add_minutes('10.10.2021', 90)", "10.10.2021 01:30"),
        ("time_interval('10:00', '19:00', '12:00')", True),
        ("time_interval('10:00', '19:00', '10:00')", True),
        ("time_interval('10:00', '19:00', '19:00')", True),
        ("time_interval('10:00', '19:00', '19:01')", False),
        ("time_interval('10:00', '19:00', '09:59')", False),
        ("time_interval('22:00', '06:00', '23:30')", True),
        ("time_interval('22:00', '06:00', '03:00')", True),
        ("time_interval('22:00', '06:00', '12:00')", False),
        ("time_interval('9:00', '18:00')", True),
        ("time_interval('13:00', '18:00')", False),
        ("weekday_date(1)", "11.10.2021"),
        ("weekday_date(3)", "13.10.2021"),
        ("weekday_date(3, True)", "06.10.2021"),
        ("weekday_date(3, False)", "13.10.2021"),
        ("weekday_date(7, True)", "10.10.2021"),
        ("weekday_date(5)", "08.10.2021"),
        ("convert_datetime('2021-10-05', '%Y-%m-%d', '%d.%m.%Y')", "05.10.2021"),
        (
            "convert_datetime('2021-10-05 14:30', '%Y-%m-%d %H:%M', 'dd.mm.yyyy HH:MM')",
            "05.10.2021 14:30",
        ),
        ("convert_datetime('05.10.2021', 'dd.mm.yyyy', 'yyyy-mm-dd')", "2021-10-05"),
        ("convert_datetime('05.10.21 9:05', 'dd.mm.yy HH:MM', 'HH:MM')", "09:05"),
        ("convert_datetime('05.10.2021', 'dd.mm.yyyy', '%A')", "Вторник"),
    ],
)
def test_documented_behaviour(expr: str, expected: object) -> None:
    assert ev(expr) == expected


def test_the_documented_forms_with_current_date_and_time() -> None:
    variables = {"current_date": "06.10.2021", "current_time": "12:30"}
    source = "a = addDays(current_date, 20)\nb = addMinutes(current_time, 20)"
    result = run(source, variables)
    assert result["a"] == "26.10.2021"
    assert result["b"] == "12:50"


def test_time_interval_and_weekday_date_follow_the_run_clock() -> None:
    late = datetime(2021, 10, 9, 23, 15)  # a Saturday night
    assert ev("time_interval('22:00', '06:00')", clock=lambda: late) is True
    assert ev("time_interval('09:00', '18:00')", clock=lambda: late) is False
    assert ev("weekday_date(1)", clock=lambda: late) == "11.10.2021"
    assert NOW.isoweekday() == 3


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("addDays('2021-10-10', 1)", "addDays(): parameter 'date' must be a date dd.mm.yyyy"),
        ("add_days('32.01.2021', 1)", "addDays(): parameter 'date' must be a date dd.mm.yyyy"),
        ("addDays('10.10.2021', 'x')", "addDays(): parameter 'days' must be a whole number"),
        ("addDays('10.10.2021', 1.5)", "addDays(): parameter 'days' must be a whole number"),
        ("addDays('31.12.9999', 1)", "addDays(): the resulting date is out of range"),
        ("addMonth('tomorrow', 1)", "addMonth(): parameter 'date' must be a date dd.mm.yyyy"),
        ("addMonth('01.01.2021', [1])", "addMonth(): parameter 'months' must be a whole number"),
        ("addMonth('01.12.9999', 1)", "addMonth(): the resulting date is out of range"),
        ("addYear('01.01.2021', 10000)", "addYear(): the resulting date is out of range"),
        ("addYear('10:00', 1)", "addYear(): parameter 'date' must be a date dd.mm.yyyy"),
        ("addMinutes('25:00', 1)", "addMinutes(): parameter 'time' must be a time HH:MM"),
        ("addMinutes('10:00', 'x')", "addMinutes(): parameter 'minutes' must be a whole number"),
        ("time_interval('9', '18:00')", "time_interval(): parameter 'start' must be a time HH:MM"),
        ("time_interval('9:00', 18)", "time_interval(): parameter 'end' must be a time HH:MM"),
        ("time_interval('9:00', '18:00', 'now')", "time_interval(): parameter 'time' must be"),
        ("weekday_date(8)", "weekday_date(): parameter 'weekday' must be 1 (Monday) to 7"),
        ("weekday_date('x')", "weekday_date(): parameter 'weekday' must be a whole number"),
        ("month_date(0)", "month_date(): parameter 'day' must be 1 to 31, got 0"),
        ("month_date(32)", "month_date(): parameter 'day' must be 1 to 31, got 32"),
        ("birthdate('soon')", "birthdate(): parameter 'date_of_birth' must be a date"),
        ("date_rus('31.02.2022')", "date_rus(): parameter 'date_text' must be a date"),
        (
            "time_interval('10:00', '25.10.2021 23:59')",
            "time_interval(): start and end must both be times or both dates with times",
        ),
        (
            "time_interval('18.10.2021 10:00', '25.10.2021 23:59', '12:00')",
            "time_interval(): parameter 'time' must be a date and time when the bounds are",
        ),
        ("time_interval('10:00', '12:00', '1.1.2021')", "parameter 'time' must be a time when"),
        ("get_datetime('')", "get_datetime(): parameter 'fmt' is an empty format"),
        (
            "convert_datetime('2021', '%d.%m', 'x')",
            'convert_datetime(): the text "2021" does not match',
        ),
        (
            "convert_datetime('x', '', 'y')",
            "convert_datetime(): parameter 'fmt_in' is an empty format",
        ),
        ("convert_datetime('x', '%d', ' ')", "convert_datetime(): parameter 'fmt_out' is an empty"),
        (
            "convert_datetime('1', '%d', f)",
            "convert_datetime(): parameter 'fmt_out' is longer than",
        ),
    ],
)
def test_errors_name_the_function_and_parameter(expr: str, fragment: str) -> None:
    assert fragment in error_of(expr, {"f": "%d" * 150}).message
