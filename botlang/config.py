"""Project configuration: ``botlang.toml``, validated with errors that name the key.

```toml
[project]
flow = "bot.bot"                    # relative paths are read from the config file's folder
messengers = []                     # connected messengers, e.g. ["whatsapp"]
[store]
url = "sqlite:///botlang.db"        # or "memory://", "postgresql://user@host/db"
pool_max = 10                       # connections per process (defaults shown) ...
pool_min = 1                        # ... kept open (PostgreSQL)
pool_timeout_seconds = 10           # waiting for a free connection
connect_timeout_seconds = 5         # PostgreSQL: connecting
statement_timeout_seconds = 15      # PostgreSQL: one statement
lock_timeout_seconds = 10           # PostgreSQL: one lock wait
keepalive_idle_seconds = 30         # PostgreSQL TCP keepalive: idle time before probes,
keepalive_interval_seconds = 10     # ... the time between probes,
keepalive_count = 3                 # ... and how many may go unanswered
application_name = "botlang"        # PostgreSQL: how the connections are listed
[mango]
api_key_env = "MANGO_API_KEY"       # or api_key = "..."
api_salt_env = "MANGO_API_SALT"     # or api_salt = "..."
[server]
host = "127.0.0.1"
port = 8080
message_token_env = "BOTLANG_MESSAGE_TOKEN"   # or message_token = "..."; POST /message needs it
outgoing_url = "https://bot.example.com/botlang/outgoing"   # or outgoing_url_env = "..."
outgoing_token_env = "BOTLANG_OUTGOING_TOKEN" # or outgoing_token = "..."; sent as a bearer token
idempotency_retention_seconds = 86400         # how long POST /message answers are replayed
max_ready_backlog = 5000            # GET /ready says "not ready" above this many pending events
lease_seconds = 30                  # a worker's hold on an event and its client (renewed while
                                    # it works): how soon another takes over after a crash
[outbox]                            # retrying outgoing messages (defaults shown)
first_retry_seconds = 10            # the first retry, then ...
backoff = 2.0                       # ... each delay this many times the one before,
max_retry_seconds = 3600            # ... at most an hour apart,
max_age_seconds = 172800            # until the message is two days old: then it fails
[guard]                             # the spam guard (defaults shown)
enabled = true
calls_per_number = 3                # calls to one client number (both kinds) ...
window_seconds = 600                # ... in any 10 minutes
group_calls_per_number = 1          # group calls to one number, the stricter limit
group_window_seconds = 600
url = "memory://"                   # or "redis://host:6379/0" (url_env = "...") to share
[[employees]]
name = "Иван"
extension = "219"
call_method = "mango_api"           # disabled | app | mango_api
[[groups]]
number = "12345"
name = "Продажи"
line_number = "74992262961"
```

Unknown keys are errors. To add a section, subclass :class:`Section` and add a field to
:class:`Config`. Secrets are :class:`pydantic.SecretStr`: they never show in a repr, a log
line or an error message.
"""

from __future__ import annotations

import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from botlang.clients.matching import MESSENGERS
from botlang.clients.phones import InvalidPhone, normalize_phone
from botlang.store.base import DEFAULT_STORE_SETTINGS, StoreSettings
from botlang.telephony.guard import DEFAULT_GROUP_PER_NUMBER, DEFAULT_PER_NUMBER

CallMethod = Literal["disabled", "app", "mango_api"]
CALL_METHODS: tuple[str, ...] = typing.get_args(CallMethod)
DEFAULT_STORE_URL = "sqlite:///botlang.db"
DEFAULT_MANGO_URL = "https://app.mango-office.ru/vpbx/"
STORE_SCHEMES = ("memory", "sqlite", "postgresql", "postgres")
DEFAULT_GUARD_URL = "memory://"
GUARD_SCHEMES = ("memory", "redis", "rediss")
MIN_TOKEN_CHARS = 16

_DIGITS = re.compile(r"[0-9]+")
_TOKEN = re.compile(r"[\x21-\x7e]+")


class ConfigError(Exception):
    """The configuration cannot be used; each line names the file and the key."""

    def __init__(self, path: str | os.PathLike[str], problems: Sequence[tuple[str, str]]) -> None:
        self.path = str(path)
        self.problems = list(problems)  # (key path, message)
        lines = [
            f"{self.path}: {key}: {msg}" if key else f"{self.path}: {msg}" for key, msg in problems
        ]
        super().__init__("\n".join(lines))


class KeyProblem(ValueError):
    """Raised by validators to report problems at keys below the one being validated."""

    def __init__(self, *problems: tuple[tuple[str | int, ...], str]) -> None:
        super().__init__("; ".join(msg for _, msg in problems))
        self.problems = problems


class Section(BaseModel):
    """Base of every configuration table: unknown keys rejected, values immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _digit_string(value: Any) -> Any:
    # TOML authors often write numbers bare (extension = 219); they mean the digits.
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    return value


def _secrets_from_env(
    data: Any, info: ValidationInfo, secrets: Sequence[str], *, required: bool
) -> Any:
    """Fill each secret ``X`` from the environment variable its ``X_env`` key names."""
    if not isinstance(data, dict):
        return data
    env: Mapping[str, str] = (info.context or {}).get("env", os.environ)
    data = dict(data)
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for secret in secrets:
        env_key = f"{secret}_env"
        name = data.get(env_key)
        if name is None:
            if required and secret not in data:
                problems.append(((secret,), f"required (or {env_key}: an environment variable)"))
        elif secret in data:
            problems.append(((env_key,), f"give either {secret} or {env_key}, not both"))
        elif isinstance(name, str) and name:
            value = env.get(name)
            if value:
                data[secret] = value
            else:
                problems.append(((env_key,), f"environment variable {name} is not set"))
    if problems:
        raise KeyProblem(*problems)
    return data


class ProjectConfig(Section):
    """``[project]``: the flow file and the connected messengers."""

    flow: Path
    messengers: tuple[str, ...] = ()

    @field_validator("flow")
    @classmethod
    def _resolve_flow(cls, flow: Path, info: ValidationInfo) -> Path:
        if str(flow) in ("", "."):
            raise ValueError("must name the flow file")
        base = (info.context or {}).get("base")
        return flow if flow.is_absolute() or base is None else Path(base) / flow

    @field_validator("messengers")
    @classmethod
    def _known_messengers(cls, messengers: tuple[str, ...]) -> tuple[str, ...]:
        names = tuple(dict.fromkeys(m.strip().lower() for m in messengers))
        unknown = [
            ((i,), f"unknown messenger {m!r}; known: {', '.join(MESSENGERS)}")
            for i, m in enumerate(names)
            if m not in MESSENGERS
        ]
        if unknown:
            raise KeyProblem(*unknown)
        return names


_STORE = DEFAULT_STORE_SETTINGS


class StoreConfig(Section):
    """``[store]``: where clients and variables are kept, and how it is connected to."""

    url: str = Field(default=DEFAULT_STORE_URL, validate_default=True)
    pool_max: int = Field(default=_STORE.pool_max, ge=1, le=1000, strict=True)
    pool_min: int = Field(default=_STORE.pool_min, ge=0, le=1000, strict=True)
    pool_timeout_seconds: float = Field(default=_STORE.pool_timeout_seconds, gt=0)
    connect_timeout_seconds: float = Field(default=_STORE.connect_timeout_seconds, ge=1)
    statement_timeout_seconds: float = Field(default=_STORE.statement_timeout_seconds, gt=0)
    lock_timeout_seconds: float = Field(default=_STORE.lock_timeout_seconds, gt=0)
    keepalive_idle_seconds: int = Field(default=_STORE.keepalive_idle_seconds, ge=1, strict=True)
    keepalive_interval_seconds: int = Field(
        default=_STORE.keepalive_interval_seconds, ge=1, strict=True
    )
    keepalive_count: int = Field(default=_STORE.keepalive_count, ge=1, strict=True)
    application_name: str = Field(default=_STORE.application_name, min_length=1, max_length=63)

    @model_validator(mode="after")
    def _pool_sizes(self) -> StoreConfig:
        if self.pool_min > self.pool_max:
            raise KeyProblem((("pool_min",), f"must be at most pool_max ({self.pool_max})"))
        return self

    def settings(self) -> StoreSettings:
        """The store's connection settings."""
        return StoreSettings(
            pool_min=self.pool_min,
            pool_max=self.pool_max,
            pool_timeout_seconds=self.pool_timeout_seconds,
            connect_timeout_seconds=self.connect_timeout_seconds,
            statement_timeout_seconds=self.statement_timeout_seconds,
            lock_timeout_seconds=self.lock_timeout_seconds,
            keepalive_idle_seconds=self.keepalive_idle_seconds,
            keepalive_interval_seconds=self.keepalive_interval_seconds,
            keepalive_count=self.keepalive_count,
            application_name=self.application_name,
        )

    @field_validator("url")
    @classmethod
    def _check_url(cls, url: str, info: ValidationInfo) -> str:
        scheme, sep, rest = url.partition("://")
        if not sep or scheme.lower() not in STORE_SCHEMES:
            raise ValueError(
                "must be memory://, sqlite:///FILE or postgresql://USER@HOST:PORT/DATABASE"
            )
        base = (info.context or {}).get("base")
        if scheme.lower() == "sqlite" and base is not None:
            path, q, query = rest.partition("?")
            if not path.startswith("/") or path == "/":
                raise ValueError("a SQLite URL is sqlite:///relative.db or sqlite:////abs/path.db")
            if not path.startswith("//"):  # relative to the config file's folder
                url = f"sqlite:///{Path(base) / path[1:]}{q}{query}"
        return url


class MangoConfig(Section):
    """``[mango]``: the Mango Office API key and salt (or the environment variables)."""

    api_key: SecretStr
    api_salt: SecretStr
    api_key_env: str | None = None
    api_salt_env: str | None = None
    base_url: str = DEFAULT_MANGO_URL

    @model_validator(mode="before")
    @classmethod
    def _secrets_from_env(cls, data: Any, info: ValidationInfo) -> Any:
        return _secrets_from_env(data, info, ("api_key", "api_salt"), required=True)

    @field_validator("api_key", "api_salt")
    @classmethod
    def _not_empty(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, url: str) -> str:
        if not url.startswith(("https://", "http://")):
            raise ValueError("must start with https:// or http://")
        return url if url.endswith("/") else url + "/"


class ServerConfig(Section):
    """``[server]``: where ``botlang serve`` listens, the token ``POST /message`` needs, and
    where the messages of the turns it runs on its own (event callbacks) are delivered."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    message_token: SecretStr | None = None  # None: /message is open (a warning at start-up)
    message_token_env: str | None = None
    outgoing_url: str | None = None  # None: those messages are logged, not delivered
    outgoing_url_env: str | None = None
    outgoing_token: SecretStr | None = None  # sent as "Authorization: Bearer <token>"
    outgoing_token_env: str | None = None
    # POST /message answers kept to replay a retried request (Idempotency-Key, message_id)
    idempotency_retention_seconds: float = Field(default=24 * 3600.0, gt=0)
    max_ready_backlog: int = Field(default=5_000, ge=1, strict=True)  # GET /ready's limit
    lease_seconds: float = Field(default=30.0, ge=0.5, le=3600)  # claims and client leases

    @model_validator(mode="before")
    @classmethod
    def _token_from_env(cls, data: Any, info: ValidationInfo) -> Any:
        return _secrets_from_env(
            data, info, ("message_token", "outgoing_url", "outgoing_token"), required=False
        )

    @field_validator("message_token")
    @classmethod
    def _long_enough(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and len(token.get_secret_value().strip()) < MIN_TOKEN_CHARS:
            raise ValueError(f"must be at least {MIN_TOKEN_CHARS} characters")
        return token

    @field_validator("outgoing_url")
    @classmethod
    def _check_outgoing_url(cls, url: str | None) -> str | None:
        # Messages never quote the URL: it may carry credentials.
        if url is None:
            return None
        text = url.strip()
        try:
            parts = urlsplit(text)
            _ = parts.port  # ValueError unless a number
        except ValueError:
            raise ValueError("not a valid URL; expected https://HOST/PATH") from None
        if parts.scheme.lower() not in ("https", "http") or not parts.hostname:
            raise ValueError("must be an https:// or http:// URL with a host")
        return text

    @field_validator("outgoing_token")
    @classmethod
    def _one_word(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and not _TOKEN.fullmatch(token.get_secret_value().strip()):
            raise ValueError("must be printable ASCII without spaces (it goes in an HTTP header)")
        return None if token is None else SecretStr(token.get_secret_value().strip())

    @model_validator(mode="after")
    def _token_needs_url(self) -> ServerConfig:
        if self.outgoing_token is not None and self.outgoing_url is None:
            key = "outgoing_token_env" if self.outgoing_token_env else "outgoing_token"
            raise KeyProblem(((key,), "only used with outgoing_url (or outgoing_url_env)"))
        return self


class OutboxConfig(Section):
    """``[outbox]``: how outgoing messages are retried.

    A failed delivery is tried again after ``first_retry_seconds``, then after ``backoff``
    times the delay before, at most ``max_retry_seconds`` apart, until the message is
    ``max_age_seconds`` old; then it fails (re-send failed ones with ``botlang outbox retry``).
    """

    first_retry_seconds: float = Field(default=10.0, gt=0)
    backoff: float = Field(default=2.0, ge=1)
    max_retry_seconds: float = Field(default=3600.0, gt=0)
    max_age_seconds: float = Field(default=2 * 24 * 3600.0, gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> OutboxConfig:
        if self.max_retry_seconds < self.first_retry_seconds:
            raise KeyProblem((("max_retry_seconds",), "must be at least first_retry_seconds"))
        if self.max_age_seconds < self.first_retry_seconds:
            raise KeyProblem((("max_age_seconds",), "must be at least first_retry_seconds"))
        return self


class GuardConfig(Section):
    """``[guard]``: the spam guard's limits, and where it keeps its call history.

    ``url = "memory://"`` holds within one process; ``redis://HOST:PORT/DB`` is shared by
    every ``botlang serve`` using that Redis (needed when several run on one database).
    """

    enabled: bool = Field(default=True, strict=True)
    calls_per_number: int = Field(default=DEFAULT_PER_NUMBER.calls, ge=1, strict=True)
    window_seconds: float = Field(default=DEFAULT_PER_NUMBER.window, gt=0, strict=True)
    group_calls_per_number: int = Field(default=DEFAULT_GROUP_PER_NUMBER.calls, ge=1, strict=True)
    group_window_seconds: float = Field(default=DEFAULT_GROUP_PER_NUMBER.window, gt=0, strict=True)
    url: SecretStr = SecretStr(DEFAULT_GUARD_URL)  # secret: a Redis URL can hold a password
    url_env: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _url_from_env(cls, data: Any, info: ValidationInfo) -> Any:
        return _secrets_from_env(data, info, ("url",), required=False)

    @field_validator("url")
    @classmethod
    def _check_url(cls, url: SecretStr) -> SecretStr:
        # Messages never quote the URL: it may carry a password.
        text = url.get_secret_value().strip()
        scheme, sep, rest = text.partition("://")
        scheme = scheme.lower()
        if not sep or scheme not in GUARD_SCHEMES or (scheme == "memory" and rest):
            raise ValueError("must be memory:// or redis://HOST:PORT/DB")
        if scheme == "memory":
            return SecretStr(DEFAULT_GUARD_URL)
        try:
            parts = urlsplit(f"{scheme}://{rest}")
            host, _ = parts.hostname, parts.port  # .port raises ValueError unless a number
        except ValueError:
            raise ValueError("not a valid URL; expected redis://HOST:PORT/DB") from None
        if not host:
            raise ValueError("must name the Redis host: redis://HOST:PORT/DB")
        if not re.fullmatch(r"/?[0-9]*", parts.path):
            raise ValueError("the Redis database must be a number: redis://HOST:PORT/DB")
        return SecretStr(f"{scheme}://{rest}")

    @model_validator(mode="after")
    def _group_not_looser(self) -> GuardConfig:
        # Group calls count toward the overall limit too, so a group limit that allows at
        # least as many calls in no longer a window could never refuse anything: set that
        # way it is a misunderstanding. (Left at its defaults it is merely redundant.)
        calls, window = self.calls_per_number, self.window_seconds
        group_calls, group_window = self.group_calls_per_number, self.group_window_seconds
        looser = group_calls >= calls and group_window <= window
        given = {"group_calls_per_number", "group_window_seconds"} & self.model_fields_set
        if looser and given and (group_calls, group_window) != (calls, window):
            key = "group_calls_per_number" if group_calls > calls else "group_window_seconds"
            raise KeyProblem(
                (
                    (key,),
                    f"the group limit ({group_calls} per {group_window:g} s) is looser than "
                    f"calls_per_number/window_seconds ({calls} per {window:g} s), which count "
                    "group calls too; make it stricter (fewer calls or a longer window)",
                )
            )
        return self


class EmployeeConfig(Section):
    """One ``[[employees]]`` entry: how this employee calls a client from the client card."""

    name: str = Field(min_length=1)
    extension: str | None = None  # the employee's short number in Mango Office, e.g. "219"
    call_method: CallMethod = "disabled"

    digits_as_text = field_validator("extension", mode="before")(_digit_string)

    @field_validator("extension")
    @classmethod
    def _check_extension(cls, extension: str | None) -> str | None:
        if extension is not None and not _DIGITS.fullmatch(extension):
            raise ValueError('must be digits only, e.g. "219"')
        return extension

    @model_validator(mode="after")
    def _extension_for_api_calls(self) -> EmployeeConfig:
        if self.call_method == "mango_api" and self.extension is None:
            raise KeyProblem((("extension",), "required when call_method is mango_api"))
        return self


class GroupConfig(Section):
    """One ``[[groups]]`` entry: a Mango Office group and the line it calls out on."""

    number: str
    name: str = ""
    line_number: str

    digits_as_text = field_validator("number", "line_number", mode="before")(_digit_string)

    @field_validator("number")
    @classmethod
    def _check_number(cls, number: str) -> str:
        if not _DIGITS.fullmatch(number):
            raise ValueError('must be digits only, e.g. "12345"')
        return number

    @field_validator("line_number")
    @classmethod
    def _check_line(cls, line: str) -> str:
        try:
            return normalize_phone(line)
        except InvalidPhone as exc:
            raise ValueError(str(exc)) from None


class Config(Section):
    """The whole ``botlang.toml``."""

    project: ProjectConfig
    # Defaults given as tables so they are validated too (relative paths resolved).
    store: StoreConfig = Field(default_factory=dict, validate_default=True)  # type: ignore[arg-type]
    mango: MangoConfig | None = None
    server: ServerConfig = Field(default_factory=dict, validate_default=True)  # type: ignore[arg-type]
    outbox: OutboxConfig = Field(default_factory=dict, validate_default=True)  # type: ignore[arg-type]
    guard: GuardConfig = Field(default_factory=dict, validate_default=True)  # type: ignore[arg-type]
    employees: tuple[EmployeeConfig, ...] = ()
    groups: tuple[GroupConfig, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Config:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        api_callers = [i for i, e in enumerate(self.employees) if e.call_method == "mango_api"]
        if api_callers and self.mango is None:
            problems.append(
                (("mango",), f"required: employees[{api_callers[0]}] calls through the Mango API")
            )
        for section, key, items in (
            ("employees", "extension", self.employees),
            ("groups", "number", self.groups),
        ):
            seen: dict[str, int] = {}
            for i, item in enumerate(items):
                value = getattr(item, key)
                if value is None:
                    continue
                if value in seen:
                    problems.append(((section, i, key), f"same as {section}[{seen[value]}].{key}"))
                seen.setdefault(value, i)
        if problems:
            raise KeyProblem(*problems)
        return self

    def employee(self, key: str) -> EmployeeConfig | None:
        """The employee with this extension or name, or None."""
        for employee in self.employees:
            if key in (employee.extension, employee.name):
                return employee
        return None

    def group(self, number: str) -> GroupConfig | None:
        """The group with this number, or None."""
        return next((g for g in self.groups if g.number == str(number)), None)


def load_config(path: str | os.PathLike[str], *, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate a ``botlang.toml``; raise :class:`ConfigError` naming the key.

    Secrets given as ``*_env`` are read from ``env`` (default: the process environment).
    Relative paths (the flow file, a SQLite file) are taken from the config file's folder.
    """
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(file, [("", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(file, [("", f"cannot read: {exc}")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(file, [("", f"not valid TOML: {exc}")]) from None
    return parse_config(data, base=file.resolve().parent, source=file, env=env)


def parse_config(
    data: Mapping[str, Any],
    *,
    base: str | os.PathLike[str] | None = None,
    source: str | os.PathLike[str] = "botlang.toml",
    env: Mapping[str, str] | None = None,
) -> Config:
    """Validate configuration already read from TOML (``base``: folder for relative paths)."""
    context = {"env": os.environ if env is None else env, "base": base}
    try:
        return Config.model_validate(dict(data), context=context)
    except ValidationError as exc:
        # from None: the pydantic error holds the input, secrets included.
        raise ConfigError(source, _problems(exc)) from None


def parse_guard(data: Mapping[str, Any], *, env: Mapping[str, str] | None = None) -> GuardConfig:
    """Validate a ``[guard]`` table on its own; ValueError naming the keys (``guard.KEY``)."""
    context = {"env": os.environ if env is None else env, "base": None}
    try:
        return GuardConfig.model_validate(dict(data), context=context)
    except ValidationError as exc:
        problems = _problems(exc, prefix=("guard",))
        raise ValueError("; ".join(f"{key}: {msg}" for key, msg in problems)) from None


# -- turning pydantic errors into "key.path: message" -------------------------------------


def _problems(exc: ValidationError, prefix: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for error in exc.errors(include_input=False, include_url=False):
        loc = prefix + tuple(error["loc"])
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, KeyProblem):
            for sub, msg in cause.problems:
                problems.append((_key_path(loc + tuple(sub)), msg))
            continue
        problems.append((_key_path(loc), _message(error, loc)))
    return list(dict.fromkeys(problems))


def _key_path(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _message(error: Any, loc: tuple[Any, ...]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        known = _known_keys(loc[:-1])
        return f"unknown key; known keys: {', '.join(known)}" if known else "unknown key"
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        return f"must be one of {expected}"
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    simple = {
        "string_type": "must be a string",
        "int_type": "must be an integer",
        "int_parsing": "must be an integer",
        "int_from_float": "must be an integer",
        "float_type": "must be a number",
        "float_parsing": "must be a number",
        "bool_type": "must be true or false",
        "bool_parsing": "must be true or false",
        "list_type": "must be a list",
        "tuple_type": "must be a list",
        "model_type": "must be a table",
        "model_attributes_type": "must be a table",
        "dict_type": "must be a table",
        "string_too_short": "must not be empty",
        "greater_than": f"must be more than {ctx.get('gt')}",
        "greater_than_equal": f"must be at least {ctx.get('ge')}",
        "less_than_equal": f"must be at most {ctx.get('le')}",
        "path_type": "must be a path (a string)",
    }
    return simple.get(kind, str(error["msg"]))


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys the table at ``loc`` accepts (for "unknown key" messages)."""
    model: Any = Config
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return []
        model = _model_in(fields[part].annotation)
    fields = getattr(model, "model_fields", None)
    return list(fields) if fields else []


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (tuple, list, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None
