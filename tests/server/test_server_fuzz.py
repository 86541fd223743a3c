"""Whatever arrives at the webhook or /message, the answer is a clear status — never a 500,
and a signed event is either accepted or refused with 400, never half-stored."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from server_testkit import API_KEY, API_SALT

from botlang.telephony.signing import sign

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
event_like = st.fixed_dictionaries(
    {},
    optional={
        "entry_id": json_values,
        "call_id": json_values,
        "seq": json_values,
        "call_state": st.sampled_from(["Appeared", "Connected", "Disconnected", "?"]) | json_values,
        "from": json_values | st.fixed_dictionaries({}, optional={"number": json_values}),
        "to": json_values | st.fixed_dictionaries({}, optional={"extension": json_values}),
        "talk_time": json_values,
        "end_time": json_values,
        "disconnect_reason": json_values,
        "result": json_values,
        "command_id": json_values,
    },
)
paths = st.sampled_from(
    ["events/call", "events/summary", "result/callback", "result/callback_group", "ping", "x/y"]
)
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(path=paths, payload=event_like)
def test_signed_events_of_any_shape_get_a_clear_status(
    serve: Any, path: str, payload: dict[str, Any]
) -> None:
    server = _server(serve)
    response = server.webhook(path, payload)
    assert response.status_code in (200, 400, 404), response.text


@SETTINGS
@given(
    path=paths,
    body=st.one_of(
        st.binary(max_size=200),
        st.dictionaries(st.text(max_size=12), st.text(max_size=30), max_size=4).map(
            lambda form: "&".join(f"{k}={v}" for k, v in form.items()).encode()
        ),
        json_values.map(lambda v: json.dumps(v).encode()),
    ),
)
def test_arbitrary_bodies_never_cause_a_server_error(serve: Any, path: str, body: bytes) -> None:
    server = _server(serve)
    response = server.http.post(
        f"{server.url}/mango_webhook/{API_KEY}/{path}",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code in (400, 403, 404, 413), response.text
    message = server.http.post(f"{server.url}/message", content=body)
    assert message.status_code < 500, message.text


@SETTINGS
@given(
    form=st.dictionaries(st.sampled_from(["vpbx_api_key", "sign", "json"]), st.text(max_size=40))
)
def test_forms_with_missing_or_wrong_fields_are_refused(serve: Any, form: dict[str, str]) -> None:
    server = _server(serve)
    response = server.webhook("events/summary", form=form)
    assert response.status_code in (400, 403), response.text


def test_a_valid_signature_over_non_object_json_is_400(serve: Any) -> None:
    server = _server(serve)
    for text in ("[1, 2]", "42", '"x"', "null", "{not json"):
        form = {"vpbx_api_key": API_KEY, "sign": sign(API_KEY, text, API_SALT), "json": text}
        assert server.webhook("events/summary", form=form).status_code == 400, text


_RUNNING: dict[int, Any] = {}


def _server(serve: Any) -> Any:
    # One service per test function (hypothesis calls the body many times with one fixture).
    key = id(serve)
    if key not in _RUNNING:
        _RUNNING.clear()
        _RUNNING[key] = serve()
    return _RUNNING[key]
