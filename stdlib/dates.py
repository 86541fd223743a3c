"""Dates and times: adding days, months, years and minutes, time windows, reformatting.

Salebot formats: dates "dd.mm.yyyy", times "HH:MM", and both together "dd.mm.yyyy HH:MM".
A function returns its result in the format it was given. "Now" is the run's clock.
"""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta

from botlang.core.builtins import CallContext, builtin
from botlang.core.errors import ScriptError
from botlang.core.runtime import values

_DATETIME_RE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\Z")
MAX_FORMAT_CHARS = 200


class _Moment:
    """A parsed date, time or date-and-time, remembering which it was."""

    __slots__ = ("kind", "seconds", "value")

    def __init__(self, kind: str, value: datetime, seconds: bool = False) -> None:
        self.kind = kind  # "date" | "time" | "datetime"
        self.value = value
        self.seconds = seconds

    def text(self, value: datetime) -> str:
        if self.kind == "date":
            return value.strftime("%d.%m.%Y")
        if self.kind == "time":
            return value.strftime("%H:%M")
        return value.strftime("%d.%m.%Y %H:%M:%S" if self.seconds else "%d.%m.%Y %H:%M")


def _parse(name: str, param: str, text: str, *, time_ok: bool = False) -> _Moment:
    stripped = text.strip()
    if len(stripped) <= 30:
        day = values.parse_date(stripped)
        if day is not None:
            return _Moment("date", datetime(day.year, day.month, day.day))
        match = _DATETIME_RE.match(stripped)
        if match:
            d, mo, y, h, mi, s = match.groups()
            try:
                moment = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0))
            except ValueError:
                pass
            else:
                return _Moment("datetime", moment, seconds=s is not None)
        if time_ok:
            minutes = values.parse_time(stripped)
            if minutes is not None:
                return _Moment("time", datetime(2000, 1, 1, minutes // 60, minutes % 60))
    expected = "a time HH:MM, a date dd.mm.yyyy" if time_ok else "a date dd.mm.yyyy"
    raise ScriptError(
        f"{name}(): parameter '{param}' must be {expected} or 'dd.mm.yyyy HH:MM', "
        f"got {values.describe_value(text)}"
    )


def _out_of_range(name: str) -> ScriptError:
    return ScriptError(f"{name}(): the resulting date is out of range (years 1 to 9999)")


def _add_months(moment: datetime, months: int, name: str) -> datetime:
    index = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise _out_of_range(name)
    # The 31st plus a month is the last day of a shorter month (31.01 → 28.02 or 29.02).
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


@builtin("addDays", "add_days")
def add_days(date: str, days: int) -> str:
    """Add days to a date (negative: subtract): addDays("20.08.2019", 3) → "23.08.2019"."""
    moment = _parse("addDays", "date", date)
    try:
        return moment.text(moment.value + timedelta(days=days))
    except OverflowError:
        raise _out_of_range("addDays") from None


@builtin("addMonth", "add_month")
def add_month(date: str, months: int) -> str:
    """Add months to a date (negative: subtract); 31.01 plus 1 → the last day of February."""
    moment = _parse("addMonth", "date", date)
    return moment.text(_add_months(moment.value, months, "addMonth"))


@builtin("addYear", "add_year")
def add_year(date: str, years: int) -> str:
    """Add years to a date (negative: subtract); 29.02.2020 plus 1 → 28.02.2021."""
    moment = _parse("addYear", "date", date)
    if abs(years) > 9999:
        raise _out_of_range("addYear")
    return moment.text(_add_months(moment.value, years * 12, "addYear"))


@builtin("addMinutes", "add_minutes")
def add_minutes(time: str, minutes: int) -> str:
    """Add minutes to a time (negative: subtract); "HH:MM" wraps past midnight; dates get a time."""
    moment = _parse("addMinutes", "time", time, time_ok=True)
    if moment.kind == "time":
        start = moment.value.hour * 60 + moment.value.minute
        return values.format_time(start + minutes)
    if moment.kind == "date":  # a bare date is its midnight; the result needs the time
        moment.kind = "datetime"
    try:
        return moment.text(moment.value + timedelta(minutes=minutes))
    except OverflowError:
        raise _out_of_range("addMinutes") from None


@builtin("time_interval")
def time_interval(ctx: CallContext, start: str, end: str, time: str | None = None) -> bool:
    """Whether now (or time) is from start to end inclusive; "22:00" to "06:00" spans midnight."""
    low = _minutes("start", start)
    high = _minutes("end", end)
    if time is None:
        now = ctx.clock()
        point = now.hour * 60 + now.minute
    else:
        point = _minutes("time", time)
    if low <= high:
        return low <= point <= high
    return point >= low or point <= high


def _minutes(param: str, text: str) -> int:
    minutes = values.parse_time(text)
    if minutes is None:
        raise ScriptError(
            f"time_interval(): parameter '{param}' must be a time HH:MM, "
            f"got {values.describe_value(text)}"
        )
    return minutes


@builtin("weekday_date")
def weekday_date(ctx: CallContext, weekday: int, start: str | None = None) -> str:
    """The date of the next weekday (1 Monday … 7 Sunday) from today (or start), today included."""
    if not 1 <= weekday <= 7:
        raise ScriptError(
            f"weekday_date(): parameter 'weekday' must be 1 (Monday) to 7 (Sunday), got {weekday}"
        )
    if start is None:
        today = ctx.clock().date()
    else:
        today = _parse("weekday_date", "start", start).value.date()
    ahead = (weekday - today.isoweekday()) % 7
    try:
        return values.format_date(today + timedelta(days=ahead))
    except OverflowError:
        raise _out_of_range("weekday_date") from None


# Salebot-style format words; everything else in a format is kept as it is.
_FORMAT_WORDS = {
    "yyyy": "%Y",
    "yy": "%y",
    "dd": "%d",
    "mm": "%m",
    "HH": "%H",
    "hh": "%H",
    "MM": "%M",
    "SS": "%S",
    "ss": "%S",
}
_FORMAT_WORD_RE = re.compile("|".join(sorted(_FORMAT_WORDS, key=len, reverse=True)))


def _strftime_format(name: str, param: str, fmt: str) -> str:
    if not fmt.strip():
        raise ScriptError(f"{name}(): parameter '{param}' is an empty format")
    if len(fmt) > MAX_FORMAT_CHARS:
        raise ScriptError(
            f"{name}(): parameter '{param}' is longer than {MAX_FORMAT_CHARS} characters"
        )
    if "%" in fmt:
        return fmt
    return _FORMAT_WORD_RE.sub(lambda m: _FORMAT_WORDS[m.group(0)], fmt)


@builtin("convert_datetime")
def convert_datetime(value: str, fmt_in: str, fmt_out: str) -> str:
    """A date/time rewritten from one format to another: "%Y-%m-%d" codes or "dd.mm.yyyy HH:MM"."""
    parse_format = _strftime_format("convert_datetime", "fmt_in", fmt_in)
    print_format = _strftime_format("convert_datetime", "fmt_out", fmt_out)
    try:
        moment = datetime.strptime(value.strip(), parse_format)
    except ValueError:
        raise ScriptError(
            f"convert_datetime(): {values.describe_value(value)} does not match the format "
            f"{values.to_text(fmt_in, repr_strings=True)}"
        ) from None
    try:
        return moment.strftime(print_format)
    except ValueError as exc:
        raise ScriptError(f"convert_datetime(): bad output format: {exc}") from None
