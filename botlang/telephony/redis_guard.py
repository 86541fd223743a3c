"""The spam guard's call history in Redis: one history for every process and host.

Each client number has a sorted set ``<prefix><number>`` (default prefix ``botlang:guard:``)
whose members are ``<kind>:<ticket>`` scored by the call's time. One Lua script drops the
entries no limit looks at any more, checks every limit and records the call, so the check
and the record are one atomic step however many processes share the Redis. Each write
renews the key's expiry to the longest window (plus a second), so idle numbers vanish.

Time is the guard's injected clock when it has one (passed into the script), otherwise
the Redis server's own clock (``TIME``), so hosts with skewed clocks still agree.

Any Redis failure (down, timeout, auth, a wrong-typed key) is raised as
:class:`~botlang.telephony.guard.GuardUnavailable`, naming the server without credentials;
the guard then refuses the call.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from botlang.telephony.guard import GuardUnavailable, LimitCheck, Verdict

KEY_PREFIX = "botlang:guard:"
DEFAULT_TIMEOUT = 1.0  # seconds; with one retry a call waits at most ~2 s on a dead Redis

# KEYS[1]: the number's sorted set. ARGV: now ("" = the server's clock), kind, ticket,
# horizon, expiry seconds, then three per limit: calls, window, the only kind it counts
# ("" = every kind). Returns 0 when the call was recorded, else {limit number (1-based),
# seconds until that limit has room}.
_ADMIT = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local kind = ARGV[2]
local horizon = tonumber(ARGV[4])
local entries = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
local stale = 0
local times, kinds = {}, {}
for i = 1, #entries, 2 do
  local t = tonumber(entries[i + 1])
  if now - t >= horizon then
    stale = stale + 1
  else
    times[#times + 1] = t
    kinds[#kinds + 1] = string.match(entries[i], '^[^:]*')
  end
end
if stale > 0 then
  redis.call('ZREMRANGEBYRANK', key, 0, stale - 1)
end
for c = 0, (#ARGV - 5) / 3 - 1 do
  local calls = tonumber(ARGV[6 + 3 * c])
  local window = tonumber(ARGV[7 + 3 * c])
  local only = ARGV[8 + 3 * c]
  local inside = {}
  for i = 1, #times do
    if now - times[i] < window and (only == '' or kinds[i] == only) then
      inside[#inside + 1] = times[i]
    end
  end
  if #inside >= calls then
    return {c + 1, tostring(inside[#inside - calls + 1] + window - now)}
  end
end
redis.call('ZADD', key, now, kind .. ':' .. ARGV[3])
redis.call('EXPIRE', key, ARGV[5])
return 0
"""

# KEYS[1]: the number's sorted set. ARGV: kind, ticket ("" = the latest call of that kind).
_REFUND = """
local member = ARGV[1] .. ':'
if ARGV[2] ~= '' then
  return redis.call('ZREM', KEYS[1], member .. ARGV[2])
end
local members = redis.call('ZREVRANGE', KEYS[1], 0, -1)
for i = 1, #members do
  if string.sub(members[i], 1, #member) == member then
    return redis.call('ZREM', KEYS[1], members[i])
  end
end
return 0
"""


class RedisCallHistory:
    """A :class:`~botlang.telephony.guard.CallHistory` in Redis (``redis://HOST:PORT/DB``)."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.prefix = KEY_PREFIX if prefix is None else prefix
        self.location = redacted_url(url)
        self._redis = redis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            # One quick retry covers a pooled connection that a Redis restart closed.
            retry=Retry(NoBackoff(), 1),
        )
        self._admit = self._redis.register_script(_ADMIT)
        self._refund = self._redis.register_script(_REFUND)

    def admit(
        self,
        phone: str,
        kind: str,
        now: float | None,
        checks: Sequence[LimitCheck],
        horizon: float,
    ) -> Verdict:
        """Check and record in one script run (see the module doc)."""
        ticket = uuid.uuid4().hex
        args: list[str | int] = [
            "" if now is None else repr(float(now)),
            kind,
            ticket,
            repr(float(horizon)),
            math.ceil(horizon) + 1,
        ]
        for calls, window, only in checks:
            args += [calls, repr(float(window)), only or ""]
        try:
            answer = self._admit(keys=[self.prefix + phone], args=args)
        except (redis.RedisError, OSError) as exc:
            raise self._unavailable(exc) from None
        if not answer:
            return Verdict(ticket=ticket)
        index, wait = answer
        return Verdict(refused_by=int(index) - 1, wait=float(wait))

    def refund(self, phone: str, kind: str, ticket: str | None) -> None:
        """Remove the call with ``ticket`` (or the latest of ``kind``)."""
        try:
            self._refund(keys=[self.prefix + phone], args=[kind, ticket or ""])
        except (redis.RedisError, OSError) as exc:
            raise self._unavailable(exc) from None

    def reset(self, phone: str | None) -> None:
        """Delete one number's set, or every set under the prefix."""
        try:
            if phone is not None:
                self._redis.delete(self.prefix + phone)
                return
            batch: list[bytes] = []
            for key in self._redis.scan_iter(match=_glob_escape(self.prefix) + "*", count=500):
                batch.append(key)
                if len(batch) >= 500:
                    self._redis.delete(*batch)
                    batch.clear()
            if batch:
                self._redis.delete(*batch)
        except (redis.RedisError, OSError) as exc:
            raise self._unavailable(exc) from None

    def ping(self) -> bool:
        """Whether Redis answers now."""
        try:
            return bool(self._redis.ping())
        except (redis.RedisError, OSError):
            return False

    def persistence(self) -> str:
        """How Redis keeps the history over a restart: ``aof``, ``rdb``, ``aof+rdb``,
        ``none`` (a restart forgets every call counted), or ``unknown`` (the server does
        not say). GuardUnavailable when Redis does not answer."""
        try:
            info = self._redis.info("persistence")
            try:
                save = self._redis.config_get("save").get("save")
            except redis.ResponseError:  # CONFIG is often disabled on managed Redis
                save = None
        except (redis.RedisError, OSError) as exc:
            raise self._unavailable(exc) from None
        kinds = []
        if str(info.get("aof_enabled", "0")) == "1":
            kinds.append("aof")
        if save is not None and str(save.decode() if isinstance(save, bytes) else save).strip():
            kinds.append("rdb")
        if kinds:
            return "+".join(kinds)
        return "none" if save is not None else "unknown"

    def close(self) -> None:
        """Close the connection pool."""
        self._redis.close()

    def _unavailable(self, exc: BaseException) -> GuardUnavailable:
        # Only the type: a Redis error's text can quote the command, or its arguments.
        return GuardUnavailable(f"Redis at {self.location}: {type(exc).__name__}")

    def __repr__(self) -> str:
        return f"RedisCallHistory({self.location!r}, prefix={self.prefix!r})"


def redacted_url(url: str) -> str:
    """``redis://HOST:PORT/DB`` without user name or password, fit for logs and errors."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "localhost"
        port = parts.port or 6379
    except ValueError:
        return "redis://?"
    if ":" in host:
        host = f"[{host}]"
    db = parts.path.strip("/") or "0"
    return f"{parts.scheme}://{host}:{port}/{db}"


def _glob_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)
