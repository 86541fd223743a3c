"""String builtins: documented examples, edge cases and error cases."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from botlang import LimitExceeded
from botlang.core.limits import DEFAULT_LIMITS

from .support import error_of, ev, run


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("substring('Hello', 1, 3)", "el"),
        ("substring('Hello', 1)", "ello"),
        ("substring('Hello', -3)", "llo"),
        ("substring('Hello', 0, -1)", "Hell"),
        ("substring('Hello', 10)", ""),
        ("substring(12345, '1', '3')", "23"),
        ("startswith('Hello', 'He')", True),
        ("startswith('Hello', 'he')", False),
        ("endswith('file.pdf', '.pdf')", True),
        ("endswith('file.pdf', '.doc')", False),
        ("contains('Hello World', 'world')", False),
        ("contains('Hello World', 'world', False)", True),
        ("contains('Hello World', 'world', True)", False),
        ("contains('Hello World', 'World', True)", True),
        ("contains('Привет, мир', 'МИР', False)", True),
        ("contains('Привет, мир', 'МИР')", False),
        ("contains('abc', 'x')", False),
        ("contains(12345, 234)", True),
        ("contains(['Да', 'Нет'], 'да', False)", True),
        ("contains(['Да', 'Нет'], 'да')", False),
        ("contains([1, 2], '2')", True),
        ("concat('a', 1, 'b')", "a1b"),
        ("concat('Итого: ', 2.0, ' руб.')", "Итого: 2 руб."),
        ("concat()", ""),
        ("concat('x', None)", "x"),
        ("lower('ПрИвЕт')", "привет"),
        ("upper('hello')", "HELLO"),
        ("strip('  hi  ')", "hi"),
        ("strip('--hi--', '-')", "hi"),
        ("capitalize('hELLO world')", "Hello world"),
        ("title('иван петров')", "Иван Петров"),
        ("replace('a-b-c', '-', '+')", "a+b+c"),
        ("replace('a-b-c', '-', '+', 1)", "a+b-c"),
        ("replace('a-b-c', '-', '')", "abc"),
        ("replace('aaa', 'x', 'y')", "aaa"),
        ("splitter('a,b,c', ',')", ["a", "b", "c"]),
        ("splitter('a,b,c', ',', 2)", ["a", "b,c"]),
        ("splitter('a,b,c', ',', 1)", ["a,b,c"]),
        ("splitter('a,b,c', ',', 0)", ["a", "b", "c"]),
        ("splitter('a,b,c', ',', 5)", ["a", "b", "c"]),
        ("splitter('one  two three')", ["one", "two", "three"]),
        ("splitter('a b', '')", ["a", "b"]),
        ("splitter('', ',')", [""]),
        ("normalizePhone('8 (900) 444-33-22')", "79004443322"),
        ("normalizePhone('+7 900 444-33-22')", "79004443322"),
        ("normalizePhone(89004443322)", "79004443322"),
        ("normalizePhone('+375 29 123-45-67')", "375291234567"),
        ("normalizePhone('tel: 8-900-444-33-22')", "79004443322"),
        ("normalizePhone('123')", "123"),
        ("normalizePhone('no digits')", ""),
        ("base64('hi')", "aGk="),
        ("base64('привет')", "0L/RgNC40LLQtdGC"),
        ("base64decode('aGk=')", "hi"),
        ("base64decode('aGk')", "hi"),
        ("base64decode('0L_RgNC40LLQtdGC')", "привет"),
        ("urlencode('a b&c=д')", "a%20b%26c%3D%D0%B4"),
        ("urlencode({'q': 'a b', 'n': 1})", "q=a%20b&n=1"),
        ("urldecode('a+b%20c%D0%B4')", "a b cд"),
    ],
)
def test_documented_behaviour(expr: str, expected: object) -> None:
    assert ev(expr) == expected


def test_hmac_matches_python_for_every_algorithm() -> None:
    for algorithm in ("md5", "sha1", "sha256", "sha512", "SHA-256"):
        name = algorithm.lower().replace("-", "")
        expected = hmac.new(b"key", "сообщение".encode(), getattr(hashlib, name)).hexdigest()
        assert ev(f"hmac_hexdigest('key', 'сообщение', '{algorithm}')") == expected
    assert ev("hmac_hexdigest('key', 'msg')") == ev("hmac_hexdigest('key', 'msg', 'sha256')")


def test_strings_are_values_the_argument_is_unchanged() -> None:
    result = run("b = upper(a)\nc = replace(a, 'x', 'y')", {"a": "xyz"})
    assert result == {"a": "xyz", "b": "XYZ", "c": "yyz"}


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("substring('abc', 'x')", "substring(): parameter 'start' must be a whole number"),
        ("substring('abc', 1.5)", "substring(): parameter 'start' must be a whole number"),
        ("substring('abc', 0, [1])", "substring(): parameter 'end' must be a whole number"),
        ("replace('a', 'b', 'c', 'x')", "replace(): parameter 'count' must be a whole number"),
        ("splitter('a', ',', 'x')", "splitter(): parameter 'n' must be a whole number"),
        ("base64decode('!!!')", 'base64decode(): the text "!!!" is not Base64'),
        ("base64decode('/w==')", "base64decode(): the decoded bytes are not UTF-8 text"),
        ("hmac_hexdigest('k', 'm', 'sha3')", 'hmac_hexdigest(): unknown algorithm "sha3"'),
    ],
)
def test_errors_name_the_function_and_parameter(expr: str, fragment: str) -> None:
    assert fragment in error_of(expr).message


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("replace(big, 'a', 'bb')", "replace(): the result would be 20 characters long"),
        ("concat(big, big)", "concat(): the result would be 20 characters long"),
        ("base64(big + '12')", "base64(): the result would be 16 characters long"),
        ("urlencode(big + ' ')", "urlencode(): the result would be 13 characters long"),
    ],
)
def test_results_are_bounded_by_the_string_limit(expr: str, fragment: str) -> None:
    limits = DEFAULT_LIMITS.with_changes(max_string_chars=12)
    error = error_of(expr, {"big": "a" * 10}, limits=limits, kind=LimitExceeded)
    assert fragment in error.message


def test_splitter_is_bounded_by_the_collection_limit() -> None:
    limits = DEFAULT_LIMITS.with_changes(max_collection_items=3)
    assert run("y = splitter('a,b,c', ',')", limits=limits)["y"] == ["a", "b", "c"]
    error = error_of("splitter('a,b,c,d', ',')", limits=limits, kind=LimitExceeded)
    assert error.message.startswith("splitter(): the result would have 4 items")


@pytest.mark.parametrize(
    "expr",
    ["base64(t)", "base64decode(t)", "urlencode(t)", "urldecode(t)", "hmac_hexdigest(t, 'm')"],
)
def test_encodings_bound_their_input(expr: str) -> None:
    limits = DEFAULT_LIMITS.with_changes(max_hash_input_chars=8)
    error = error_of(expr, {"t": "aaaaaaaaaaaa"}, limits=limits, kind=LimitExceeded)
    assert "the text is 12 characters long; the limit is 8" in error.message
