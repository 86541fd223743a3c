"""botlang.toml: a valid file, every kind of invalid one (each naming its key), secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from botlang.config import Config, ConfigError, load_config

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
    assert config.employees == config.groups == ()


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
    (PROJECT + "[guard]\nlimit = 1\n", "guard: unknown key; known keys: project, store, mango"),
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
