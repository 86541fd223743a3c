"""Dates and times: adding days, months, years and minutes, time windows, reformatting.

Salebot formats: dates "dd.mm.yyyy", times "HH:MM", and both together "dd.mm.yyyy HH:MM".
A function returns its result in the format it was given. "Now" is the run's clock, read as
the wall time of its zone. Month and weekday names are Russian, as on salebot.pro (the
names of the ru_RU locale: "%A" → "Среда", "%B" → "января", "%b" → "янв").
"""

from __future__ import annotations

import calendar
import math
import re
from datetime import date, datetime, timedelta, tzinfo

from botlang.core.builtins import CallContext, builtin
from botlang.core.errors import ScriptError
from botlang.core.runtime import values

# Russian names as the ru_RU locale gives them (index 0 is Sunday for days, 1 is January).
# fmt: off
DAY_NAMES = ("Воскресенье", "Понедельник", "Вторник", "Среда", "Четверг", "Пятница", "Суббота")
DAY_ABBREVIATIONS = ("Вс", "Пн", "Вт", "Ср", "Чт", "Пт", "Сб")
MONTHS_GENITIVE = ("", "января", "февраля", "марта", "апреля", "мая", "июня", "июля",
                   "августа", "сентября", "октября", "ноября", "декабря")
MONTHS_NOMINATIVE = ("", "Январь", "Февраль", "Март", "Апрель", "Май", "Июнь", "Июль",
                     "Август", "Сентябрь", "Октябрь", "Ноябрь", "Декабрь")
MONTH_ABBREVIATIONS = ("", "янв", "фев", "мар", "апр", "мая", "июн", "июл", "авг", "сен",
                       "окт", "ноя", "дек")
MONTH_ABBREVIATIONS_NOMINATIVE = ("", "янв", "фев", "мар", "апр", "май", "июн", "июл", "авг",
                                  "сен", "окт", "ноя", "дек")
# fmt: on

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


def _now(ctx: CallContext) -> datetime:
    """The run clock's wall time (in its own zone when it has one)."""
    return ctx.clock().replace(tzinfo=None)


def _zone(ctx: CallContext) -> tzinfo | None:
    """The run clock's zone, for timestamps; None means the machine's zone."""
    return ctx.clock().tzinfo


_TIME_SECONDS_RE = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?\Z")


def _bound(param: str, text: str) -> tuple[str, datetime | int]:
    """A time_interval bound: ("time", seconds of the day) or ("datetime", the moment)."""
    stripped = text.strip()
    match = _TIME_SECONDS_RE.match(stripped)
    if match:
        hours, minutes, seconds = (int(g or 0) for g in match.groups())
        if hours <= 23 and minutes <= 59 and seconds <= 59:
            return "time", hours * 3600 + minutes * 60 + seconds
    else:
        day = values.parse_date(stripped) if len(stripped) <= 30 else None
        if day is not None:
            start = datetime(day.year, day.month, day.day)
            # a date alone is the whole day: up to its last second as the end
            return "datetime", start.replace(
                hour=23, minute=59, second=59
            ) if param == "end" else start
        found = _DATETIME_RE.match(stripped) if len(stripped) <= 30 else None
        if found:
            d, mo, y, h, mi, sec = (int(g or 0) for g in found.groups())
            try:
                return "datetime", datetime(y, mo, d, h, mi, sec)
            except ValueError:
                pass
    raise ScriptError(
        f"time_interval(): parameter '{param}' must be a time HH:MM[:SS] or a date and time "
        f"'dd.mm.yyyy HH:MM[:SS]', got {values.describe_value(text)}"
    )


@builtin("time_interval")
def time_interval(ctx: CallContext, start: str, end: str, time: str | None = None) -> bool:
    """Whether now (or time) is from start to end inclusive: times or 'dd.mm.yyyy HH:MM[:SS]'.

    Times compare by the time of day, so "22:00" to "06:00" spans midnight; dates with times
    compare as moments: time_interval('18.10.2021 10:00', '25.10.2021 23:59:59').
    """
    low_kind, low = _bound("start", start)
    high_kind, high = _bound("end", end)
    if low_kind != high_kind:
        raise ScriptError(
            "time_interval(): start and end must both be times or both dates with times, got "
            f"{values.describe_value(start)} and {values.describe_value(end)}"
        )
    moment = _now(ctx) if time is None else None
    if low_kind == "datetime":
        if moment is None:
            assert time is not None
            point_kind, point = _bound("time", time)
            if point_kind != "datetime":
                raise ScriptError(
                    "time_interval(): parameter 'time' must be a date and time when the bounds "
                    f"are, got {values.describe_value(time)}"
                )
            moment = point  # type: ignore[assignment]
        assert isinstance(low, datetime) and isinstance(high, datetime) and moment is not None
        return low <= moment <= high
    assert isinstance(low, int) and isinstance(high, int)
    if moment is not None:
        seconds = moment.hour * 3600 + moment.minute * 60
        if low % 60 or high % 60:  # bounds with seconds compare to the second
            seconds += moment.second
    else:
        assert time is not None
        point_kind, point_value = _bound("time", time)
        if point_kind != "time":
            raise ScriptError(
                "time_interval(): parameter 'time' must be a time when the bounds are, got "
                f"{values.describe_value(time)}"
            )
        assert isinstance(point_value, int)
        seconds = point_value
    if low <= high:
        return low <= seconds <= high
    return seconds >= low or seconds <= high


@builtin("weekday_date")
def weekday_date(ctx: CallContext, weekday: int, may_return_today: bool = False) -> str:
    """The date of the next weekday 1 (Monday) … 7 (Sunday); today only if may_return_today."""
    if not 1 <= weekday <= 7:
        raise ScriptError(
            f"weekday_date(): parameter 'weekday' must be 1 (Monday) to 7 (Sunday), got {weekday}"
        )
    today = _now(ctx).date()
    ahead = (weekday - today.isoweekday()) % 7
    if ahead == 0 and not may_return_today:
        ahead = 7
    try:
        return values.format_date(today + timedelta(days=ahead))
    except OverflowError:
        raise _out_of_range("weekday_date") from None


def _day_in_month(year: int, month: int, day: int) -> date:
    """That day of the month, or the month's last day when it is shorter (31 → 30)."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


@builtin("month_date")
def month_date(ctx: CallContext, day: int, may_return_today: bool = False) -> str:
    """The next date with that day of the month (31 → 30 in short months), today if allowed."""
    if not 1 <= day <= 31:
        raise ScriptError(f"month_date(): parameter 'day' must be 1 to 31, got {day}")
    today = _now(ctx).date()
    year, month = today.year, today.month
    for _ in range(3):
        candidate = _day_in_month(year, month, day)
        if candidate > today or (candidate == today and may_return_today):
            return values.format_date(candidate)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        if year > 9999:
            break
    raise _out_of_range("month_date")


@builtin("birthdate")
def birthdate(ctx: CallContext, date_of_birth: str) -> str:
    """The date of the next birthday from today, today included (29.02 → 28.02 in other years)."""
    born = _parse("birthdate", "date_of_birth", date_of_birth).value.date()
    today = _now(ctx).date()
    for year in (today.year, today.year + 1):
        if year > 9999:
            break
        candidate = _day_in_month(year, born.month, born.day)
        if candidate >= today:
            return values.format_date(candidate)
    raise _out_of_range("birthdate")


def russian_date(value: date) -> str:
    """ "3 апреля": the day and the month's name in the genitive, as Salebot writes dates."""
    return f"{value.day} {MONTHS_GENITIVE[value.month]}"


def _shifted(name: str, day: date, days: int) -> date:
    try:
        return day + timedelta(days=days)
    except OverflowError:
        raise _out_of_range(name) from None


@builtin("date_rus")
def date_rus(date_text: str, num: int = 0) -> str:
    """A date as "19 июля" (num days later, or earlier when negative): date_rus('19.07.2022')."""
    day = _parse("date_rus", "date_text", date_text).value.date()
    return russian_date(_shifted("date_rus", day, num))


@builtin("current_date_rus")
def current_date_rus(ctx: CallContext, num: int = 0) -> str:
    """Today (or num days from today) as "3 апреля"."""
    return russian_date(_shifted("current_date_rus", _now(ctx).date(), num))


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


_DIRECTIVE_RE = re.compile(r"%([-_0^#]?)([EO]?)([A-Za-z%+])")
_LOCALE_FORMATS = {"c": "%a %d %b %Y %H:%M:%S", "x": "%d.%m.%Y", "X": "%H:%M:%S", "r": "%I:%M:%S"}


def format_moment(moment: datetime, fmt: str, zone: tzinfo | None = None) -> str:
    """strftime with Russian names; ``%s`` is the timestamp of the wall time in ``zone``.

    A ``zone`` of None means the machine's own zone (Python's rule for naive times).
    """

    def directive(match: re.Match[str]) -> str:
        flag, modifier, code = match.groups()
        text: str
        if code in _LOCALE_FORMATS:
            return format_moment(moment, _LOCALE_FORMATS[code], zone)
        if code == "a":
            text = DAY_ABBREVIATIONS[moment.isoweekday() % 7]
        elif code == "A":
            text = DAY_NAMES[moment.isoweekday() % 7]
        elif code in "bh":
            names = MONTH_ABBREVIATIONS_NOMINATIVE if modifier == "O" else MONTH_ABBREVIATIONS
            text = names[moment.month]
        elif code == "B":
            text = (MONTHS_NOMINATIVE if modifier == "O" else MONTHS_GENITIVE)[moment.month]
        elif code in "pP":
            text = ""  # the ru_RU locale has no AM/PM
        elif code == "s":
            aware = moment if moment.tzinfo is not None or zone is None else None
            stamp = (aware or moment.replace(tzinfo=zone)).timestamp()
            text = str(math.floor(stamp))
        else:
            return moment.strftime(match.group(0))
        return text.upper() if flag == "^" else text

    return _DIRECTIVE_RE.sub(directive, fmt)


_RUSSIAN_TO_ENGLISH: dict[str, str] = {}
for _index, _english in enumerate(calendar.day_name):  # Monday first
    _sunday_first = (_index + 1) % 7
    _RUSSIAN_TO_ENGLISH[DAY_NAMES[_sunday_first].casefold()] = _english
    _RUSSIAN_TO_ENGLISH[DAY_ABBREVIATIONS[_sunday_first].casefold()] = calendar.day_abbr[_index]
for _month in range(1, 13):
    for _names, _english_names in (
        (MONTHS_GENITIVE, calendar.month_name),
        (MONTHS_NOMINATIVE, calendar.month_name),
        (MONTH_ABBREVIATIONS, calendar.month_abbr),
        (MONTH_ABBREVIATIONS_NOMINATIVE, calendar.month_abbr),
    ):
        _RUSSIAN_TO_ENGLISH.setdefault(_names[_month].casefold(), _english_names[_month])
_RUSSIAN_NAME_RE = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, _RUSSIAN_TO_ENGLISH), key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)


def _english_names(text: str) -> str:
    """Russian month and weekday names as the English ones strptime reads."""
    return _RUSSIAN_NAME_RE.sub(lambda m: _RUSSIAN_TO_ENGLISH[m.group(0).casefold()], text)


_TIMESTAMP_FORMATS = ("%s", "%s.%f")


def _read_moment(value: str, parse_format: str, fmt_in: str, zone: tzinfo | None) -> datetime:
    text = value.strip()
    try:
        if parse_format.strip() in _TIMESTAMP_FORMATS:
            moment = datetime.fromtimestamp(float(text), zone)
            return moment.replace(tzinfo=None) if zone is not None else moment
        return datetime.strptime(_english_names(text), parse_format)
    except (ValueError, OverflowError, OSError):
        raise ScriptError(
            f"convert_datetime(): {values.describe_value(value)} does not match the format "
            f"{values.to_text(fmt_in, repr_strings=True)}"
        ) from None


@builtin("convert_datetime")
def convert_datetime(ctx: CallContext, value: str, fmt_in: str, fmt_out: str) -> str:
    """A date/time rewritten from one format to another: "%Y-%m-%d" codes or "dd.mm.yyyy HH:MM".

    ``%s`` is the Unix timestamp (in the run clock's zone), names are Russian ("%A" → "Среда").
    """
    parse_format = _strftime_format("convert_datetime", "fmt_in", fmt_in)
    print_format = _strftime_format("convert_datetime", "fmt_out", fmt_out)
    zone = _zone(ctx)
    moment = _read_moment(value, parse_format, fmt_in, zone)
    try:
        return format_moment(moment, print_format, zone)
    except (ValueError, OverflowError, OSError) as exc:
        raise ScriptError(f"convert_datetime(): bad output format: {exc}") from None


@builtin("get_datetime")
def get_datetime(ctx: CallContext, fmt: str) -> str:
    """Now in the given format, with Russian names: get_datetime("%A") → "Среда"."""
    print_format = _strftime_format("get_datetime", "fmt", fmt)
    try:
        return format_moment(ctx.clock(), print_format, _zone(ctx))
    except (ValueError, OverflowError, OSError) as exc:
        raise ScriptError(f"get_datetime(): bad format: {exc}") from None
