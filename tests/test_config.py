"""botlang.toml: a valid file, every kind of invalid one (each naming its key), secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from botlang.config import Config, ConfigError, load_config
from botlang.telephony import SpamLimit
from botlang.telephony.guard import guard_from_config
from botlang.telephony.redis_guard import RedisCallHistory

FULL = """
[project]
flow = "bots/bot.bot"
messengers = ["WhatsApp"]
[store]
url = "sqlite:///data/botlang.db"
[mango]
api_key_env = "TEST_MANGO_KEY"
api_salt_env = "TEST_MANGO_SALT"
base_url = "http://127.0.0.1:8090/vpbx"
[server]
host = "0.0.0.0"
port = 9000
[[employees]]
name = "Иван"
extension = "219"
call_method = "mango_api"
[[employees]]
name = "Мария"
extension = 220
call_method = "app"
[[employees]]
name = "Олег"
[[groups]]
number = "12345"
name = "Продажи"
line_number = "+7 (499) 226-29-61"
"""

PROJECT = '[project]\nflow = "b.bot"\n'
MANGO = '[mango]\napi_key = "k"\napi_salt = "s"\n'

ENV = {"TEST_MANGO_KEY": "key-from-env-1234", "TEST_MANGO_SALT": "salt-from-env-5678"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "botlang.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> Config:
    return load_config(write(tmp_path, text), env=ENV if env is None else env)


def test_a_full_valid_file(tmp_path: Path) -> None:
    config = load(tmp_path, FULL)
    assert config.project.flow == tmp_path / "bots" / "bot.bot"
    assert config.project.messengers == ("whatsapp",)
    assert config.store.url == f"sqlite:///{tmp_path / 'data' / 'botlang.db'}"
    assert config.mango is not None
    assert config.mango.api_key.get_secret_value() == "key-from-env-1234"
    assert config.mango.api_salt.get_secret_value() == "salt-from-env-5678"
    assert config.mango.base_url == "http://127.0.0.1:8090/vpbx/"
    assert (config.server.host, config.server.port) == ("0.0.0.0", 9000)
    assert [(e.name, e.extension, e.call_method) for e in config.employees] == [
        ("Иван", "219", "mango_api"),
        ("Мария", "220", "app"),
        ("Олег", None, "disabled"),
    ]
    (group,) = config.groups
    assert (group.number, group.name, group.line_number) == ("12345", "Продажи", "74992262961")
    assert config.employee("219") is config.employees[0]
    assert config.employee("Мария") is config.employees[1]
    assert config.employee("999") is None
    assert config.group("12345") is group


def test_a_minimal_file_gets_the_defaults(tmp_path: Path) -> None:
    config = load(tmp_path, '[project]\nflow = "/srv/bot.bot"\n')
    assert config.project.flow == Path("/srv/bot.bot")
    assert config.project.messengers == ()
    assert config.store.url == f"sqlite:///{tmp_path / 'botlang.db'}"
    assert config.mango is None
    assert (config.server.host, config.server.port) == ("127.0.0.1", 8080)
    assert config.server.message_token is None
    assert config.employees == config.groups == ()
    guard = config.guard
    assert guard.enabled and guard.url.get_secret_value() == "memory://"
    assert (guard.calls_per_number, guard.window_seconds) == (3, 600)
    assert (guard.group_calls_per_number, guard.group_window_seconds) == (1, 600)


@pytest.mark.parametrize(
    "url", ["memory://", "sqlite:////var/lib/bot.db", "postgresql://bot@db.internal:5432/bot"]
)
def test_store_urls_kept_as_given(tmp_path: Path, url: str) -> None:
    config = load(tmp_path, f'[project]\nflow = "b.bot"\n[store]\nurl = "{url}"\n')
    assert config.store.url == url


def test_secrets_inline(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        '[project]\nflow = "b.bot"\n[mango]\napi_key = "inline-key"\napi_salt = "inline-salt"\n',
    )
    assert config.mango is not None
    assert config.mango.api_key.get_secret_value() == "inline-key"


def test_secrets_never_shown(tmp_path: Path) -> None:
    config = load(tmp_path, FULL)
    inline = load(
        tmp_path,
        '[project]\nflow = "b.bot"\n[mango]\napi_key = "inline-key"\napi_salt = "inline-salt"\n',
    )
    for shown in (
        repr(config),
        str(config),
        repr(config.mango),
        config.model_dump_json(),
        repr(inline),
        inline.model_dump_json(),
    ):
        for secret in (*ENV.values(), "inline-key", "inline-salt"):
            assert secret not in shown


def test_secrets_not_in_error_messages(tmp_path: Path) -> None:
    text = PROJECT + '[mango]\napi_key = "inline-key"\napi_salt = 12345678\nport = 1\n'
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    message = str(caught.value)
    assert "mango.api_salt: must be a string" in message
    assert "inline-key" not in message
    assert "12345678" not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


INVALID = [
    (
        PROJECT
        + MANGO
        + '[[employees]]\nname = "a"\nextension = "1"\ncall_method = "app"\n'
        + '[[employees]]\nname = "b"\ncall_method = "phone"\n',
        "employees[1].call_method: must be one of disabled, app, mango_api",
    ),
    ("", "project: required"),
    ("[project]\n", "project.flow: required"),
    (
        '[project]\nflow = "b.bot"\nflw = 1\n',
        "project.flw: unknown key; known keys: flow, messengers",
    ),
    (PROJECT + "[guards]\nlimit = 1\n", "guards: unknown key; known keys: project, store, mango"),
    (
        PROJECT + "[guard]\nlimit = 1\n",
        "guard.limit: unknown key; known keys: enabled, calls_per_number, window_seconds, "
        "group_calls_per_number, group_window_seconds, url, url_env",
    ),
    (PROJECT + "[guard]\ncalls_per_number = 0\n", "guard.calls_per_number: must be at least 1"),
    (PROJECT + "[guard]\ncalls_per_number = 2.5\n", "guard.calls_per_number: must be an integer"),
    (PROJECT + "[guard]\nwindow_seconds = 0\n", "guard.window_seconds: must be more than 0"),
    (PROJECT + '[guard]\nwindow_seconds = "10m"\n', "guard.window_seconds: must be a number"),
    (
        PROJECT + "[guard]\ngroup_calls_per_number = -1\n",
        "guard.group_calls_per_number: must be at least 1",
    ),
    (
        PROJECT + "[guard]\ngroup_window_seconds = -5\n",
        "guard.group_window_seconds: must be more than 0",
    ),
    (PROJECT + '[guard]\nenabled = "yes"\n', "guard.enabled: must be true or false"),
    (
        PROJECT + "[guard]\ncalls_per_number = 3\ngroup_calls_per_number = 5\n",
        "guard.group_calls_per_number: the group limit (5 per 600 s) is looser than "
        "calls_per_number/window_seconds (3 per 600 s)",
    ),
    (
        PROJECT + "[guard]\ncalls_per_number = 2\ngroup_calls_per_number = 2\n"
        "group_window_seconds = 60\n",
        "guard.group_window_seconds: the group limit (2 per 60 s) is looser",
    ),
    (PROJECT + '[guard]\nurl = "http://cache:6379"\n', "guard.url: must be memory:// or redis://"),
    (PROJECT + '[guard]\nurl = "redis://"\n', "guard.url: must name the Redis host"),
    (PROJECT + '[guard]\nurl = "redis://cache:port/0"\n', "guard.url: not a valid URL"),
    (PROJECT + '[guard]\nurl = "redis://cache/zero"\n', "guard.url: the Redis database must"),
    (
        PROJECT + '[guard]\nurl = "memory://"\nurl_env = "GUARD_URL"\n',
        "guard.url_env: give either url or url_env, not both",
    ),
    (
        PROJECT + '[guard]\nurl_env = "NOT_SET_ANYWHERE"\n',
        "guard.url_env: environment variable NOT_SET_ANYWHERE is not set",
    ),
    (
        PROJECT + '[server]\nmessage_token = "short"\n',
        "server.message_token: must be at least 16 characters",
    ),
    (
        PROJECT + '[server]\nmessage_token_env = "NOT_SET_ANYWHERE"\n',
        "server.message_token_env: environment variable NOT_SET_ANYWHERE is not set",
    ),
    (
        PROJECT + '[server]\nmessage_token = "0123456789abcdef"\nmessage_token_env = "T"\n',
        "server.message_token_env: give either message_token or message_token_env",
    ),
    (
        PROJECT + '[server]\noutgoing_url = "ftp://bot.example.com/in"\n',
        "server.outgoing_url: must be an https:// or http:// URL with a host",
    ),
    (
        PROJECT + '[server]\noutgoing_url = "https://"\n',
        "server.outgoing_url: must be an https:// or http:// URL with a host",
    ),
    (
        PROJECT + '[server]\noutgoing_url_env = "NOT_SET_ANYWHERE"\n',
        "server.outgoing_url_env: environment variable NOT_SET_ANYWHERE is not set",
    ),
    (
        PROJECT + '[server]\noutgoing_token = "tok-without-a-url"\n',
        "server.outgoing_token: only used with outgoing_url",
    ),
    (
        PROJECT + '[server]\noutgoing_url = "https://h/in"\noutgoing_token = "two words"\n',
        "server.outgoing_token: must be printable ASCII without spaces",
    ),
    (
        '[project]\nflow = "b.bot"\nmessengers = ["whatsap"]\n',
        "project.messengers[0]: unknown messenger 'whatsap'",
    ),
    ('[project]\nflow = "b.bot"\nmessengers = "whatsapp"\n', "project.messengers: must be a list"),
    ("[project]\nflow = 1\n", "project.flow: must be a path"),
    (PROJECT + '[store]\nurl = "redis://x"\n', "store.url: must be memory://"),
    (PROJECT + '[store]\nurl = "sqlite://x.db"\n', "store.url: a SQLite URL is"),
    (PROJECT + '[mango]\napi_salt = "s"\n', "mango.api_key: required"),
    (
        PROJECT + '[mango]\napi_key = "k"\napi_key_env = "K"\napi_salt = "s"\n',
        "mango.api_key_env: give either api_key or api_key_env",
    ),
    (
        PROJECT + '[mango]\napi_key = "k"\napi_salt_env = "NOT_SET_ANYWHERE"\n',
        "mango.api_salt_env: environment variable NOT_SET_ANYWHERE is not set",
    ),
    (PROJECT + '[mango]\napi_key = " "\napi_salt = "s"\n', "mango.api_key: must not be empty"),
    (PROJECT + MANGO + 'base_url = "ftp://x"\n', "mango.base_url: must start with https://"),
    (PROJECT + MANGO + "secret = 1\n", "mango.secret: unknown key"),
    (PROJECT + "[server]\nport = 0\n", "server.port: must be at least 1"),
    (PROJECT + "[server]\nport = 70000\n", "server.port: must be at most 65535"),
    (PROJECT + '[server]\nport = "http"\n', "server.port: must be an integer"),
    ('employees = "ivan"\n' + PROJECT, "employees: must be a list"),
    (PROJECT + '[[employees]]\nname = ""\n', "employees[0].name: must not be empty"),
    (PROJECT + '[[employees]]\nextension = "219"\n', "employees[0].name: required"),
    (
        PROJECT + '[[employees]]\nname = "a"\nextension = "21a"\n',
        "employees[0].extension: must be digits only",
    ),
    (
        PROJECT + '[[employees]]\nname = "a"\nphone = "1"\n',
        "employees[0].phone: unknown key; known keys: name, extension, call_method",
    ),
    (
        PROJECT + MANGO + '[[employees]]\nname = "a"\ncall_method = "mango_api"\n',
        "employees[0].extension: required when call_method is mango_api",
    ),
    (
        PROJECT + '[[employees]]\nname = "a"\nextension = "1"\ncall_method = "mango_api"\n',
        "mango: required: employees[0] calls through the Mango API",
    ),
    (
        PROJECT
        + '[[employees]]\nname = "a"\nextension = "1"\n'
        + '[[employees]]\nname = "b"\nextension = "1"\n',
        "employees[1].extension: same as employees[0].extension",
    ),
    (
        PROJECT + '[[groups]]\nname = "g"\nline_number = "74992262961"\n',
        "groups[0].number: required",
    ),
    (PROJECT + '[[groups]]\nnumber = "1"\nline_number = "123"\n', "groups[0].line_number: "),
    (
        PROJECT + '[[groups]]\nnumber = "g1"\nline_number = "74992262961"\n',
        "groups[0].number: must be digits only",
    ),
    (
        PROJECT
        + '[[groups]]\nnumber = "1"\nline_number = "74992262961"\n'
        + '[[groups]]\nnumber = 1\nline_number = "74992262961"\n',
        "groups[1].number: same as groups[0].number",
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), INVALID, ids=[expected.split(":")[0] for _, expected in INVALID]
)
def test_invalid_configuration_names_the_key(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    message = str(caught.value)
    assert f"{path}: {expected}" in message, message
    assert caught.value.path == str(path)


def test_every_problem_is_reported(tmp_path: Path) -> None:
    text = '[project]\nflow = "b.bot"\nextra = 1\n[server]\nport = 0\n'
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    assert [key for key, _ in caught.value.problems] == ["project.extra", "server.port"]
    assert len(str(caught.value).splitlines()) == 2


def test_not_toml(tmp_path: Path) -> None:
    path = write(tmp_path, "[project\nflow = ")
    with pytest.raises(ConfigError, match=r"botlang\.toml: not valid TOML: .*line 1"):
        load_config(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nowhere\.toml: no such file"):
        load_config(tmp_path / "nowhere.toml")


def test_secrets_come_from_the_process_environment_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_MANGO_KEY", "from-process-env")
    monkeypatch.setenv("TEST_MANGO_SALT", "salt-from-process-env")
    config = load_config(write(tmp_path, FULL))
    assert config.mango is not None
    assert config.mango.api_key.get_secret_value() == "from-process-env"


GUARD = """
[guard]
calls_per_number = 2
window_seconds = 300
group_calls_per_number = 1
group_window_seconds = 3600
url_env = "TEST_GUARD_URL"
"""


def test_the_guard_section(tmp_path: Path) -> None:
    env = {"TEST_GUARD_URL": "redis://guard:guard-pw-1234@cache.internal:6380/2"}
    config = load(tmp_path, PROJECT + GUARD, env=env)
    guard = config.guard
    assert (guard.calls_per_number, guard.window_seconds) == (2, 300.0)
    assert (guard.group_calls_per_number, guard.group_window_seconds) == (1, 3600.0)
    assert guard.url.get_secret_value() == env["TEST_GUARD_URL"]
    for shown in (repr(config), config.model_dump_json()):
        assert "guard-pw-1234" not in shown

    built = guard_from_config(guard)
    assert (built.per_number, built.group_per_number) == (SpamLimit(2, 300), SpamLimit(1, 3600))
    assert isinstance(built.history, RedisCallHistory)  # no connection made yet
    assert "guard-pw-1234" not in repr(built) and "cache.internal:6380/2" in repr(built)
    built.close()

    off = guard_from_config(load(tmp_path, PROJECT + "[guard]\nenabled = false\n").guard)
    assert not off.enabled


def test_a_group_limit_left_at_its_defaults_may_be_redundant(tmp_path: Path) -> None:
    # A stricter overall limit makes the default group limit redundant, not wrong.
    text = PROJECT + "[guard]\ncalls_per_number = 1\nwindow_seconds = 3600\n"
    assert load(tmp_path, text).guard.group_window_seconds == 600


def test_message_token_from_the_environment(tmp_path: Path) -> None:
    text = PROJECT + '[server]\nmessage_token_env = "TEST_MESSAGE_TOKEN"\n'
    config = load(tmp_path, text, env={"TEST_MESSAGE_TOKEN": "tok-0123456789-abcdef"})
    assert config.server.message_token is not None
    assert config.server.message_token.get_secret_value() == "tok-0123456789-abcdef"
    assert "tok-0123456789-abcdef" not in repr(config)


def test_outgoing_url_and_token(tmp_path: Path) -> None:
    config = load(tmp_path, PROJECT)
    assert config.server.outgoing_url is None and config.server.outgoing_token is None
    text = (
        PROJECT + '[server]\noutgoing_url_env = "TEST_OUTGOING_URL"\n'
        'outgoing_token_env = "TEST_OUTGOING_TOKEN"\n'
    )
    env = {"TEST_OUTGOING_URL": "https://bot.example.com/in", "TEST_OUTGOING_TOKEN": "otk-4411"}
    config = load(tmp_path, text, env=env)
    assert config.server.outgoing_url == "https://bot.example.com/in"
    assert config.server.outgoing_token is not None
    assert config.server.outgoing_token.get_secret_value() == "otk-4411"
    assert "otk-4411" not in repr(config)
    text = PROJECT + '[server]\noutgoing_url = "http://127.0.0.1:8099/in"\n'
    assert load(tmp_path, text).server.outgoing_url == "http://127.0.0.1:8099/in"


def test_outgoing_token_not_in_error_messages(tmp_path: Path) -> None:
    text = PROJECT + '[server]\noutgoing_token = "secret token-8812"\noutgoing_url = "x"\n'
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    message = str(caught.value)
    assert "server.outgoing_token" in message and "server.outgoing_url" in message
    assert "token-8812" not in message


def test_guard_url_not_in_error_messages(tmp_path: Path) -> None:
    text = PROJECT + '[guard]\nurl = "redis://u:pw-in-url-999@cache:port/0"\n'
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    assert "guard.url" in str(caught.value) and "pw-in-url-999" not in str(caught.value)
