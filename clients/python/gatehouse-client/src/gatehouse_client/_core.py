"""What the synchronous and the asynchronous client share: how each call is built and
parsed, the retry policy for ``503``, error mapping and the ``effective`` ETag cache.
Nothing here does I/O."""

from __future__ import annotations

import email.utils
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Generic, List, Mapping, Optional, Sequence, Tuple, TypeVar
from urllib.parse import quote

import httpx

from . import models as m
from .errors import GatehouseError, error_from_body

T = TypeVar("T")

USER_AGENT = "gatehouse-client-python/0.1.0"


@dataclass
class Call(Generic[T]):
    """One HTTP call: what to send, which statuses are answers, how to read them."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    json: Any = None
    params: Optional[Dict[str, Any]] = None
    headers: Dict[str, str] = field(default_factory=dict)
    ok: Tuple[int, ...] = (200,)


def _json(resp: httpx.Response) -> Any:
    return resp.json()


def _none(resp: httpx.Response) -> None:
    return None


def user_path(user: m.UserRef, tail: str = "") -> str:
    """``/api/users/{user}{tail}`` with the id or email escaped."""
    return f"/api/users/{quote(str(user), safe='@')}{tail}"


def _drop_none(d: Mapping[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of ``503 Service Unavailable``: at most ``max_retries`` more attempts, each
    after the server's ``Retry-After`` (seconds or an HTTP date) or else an exponential
    backoff from ``backoff`` seconds, never longer than ``max_wait`` seconds."""

    max_retries: int = 3
    backoff: float = 0.5
    max_wait: float = 30.0
    statuses: Tuple[int, ...] = (503,)

    def delay(self, attempt: int, retry_after: Optional[float]) -> float:
        if retry_after is not None:
            wait = retry_after
        else:
            wait = self.backoff * (2**attempt)
        return max(0.0, min(wait, self.max_wait))


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """``Retry-After`` as seconds: an integer, or an HTTP date."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(int(value)))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def raise_for(resp: httpx.Response, call: Call[Any]) -> None:
    """Raises the :class:`GatehouseError` subclass for an answer outside ``call.ok``."""
    if resp.status_code in call.ok:
        return
    try:
        body: Any = resp.json()
    except ValueError:
        body = None
    raise error_from_body(
        resp.status_code,
        body,
        resp.text if body is None else "",
        retry_after=parse_retry_after(resp.headers.get("retry-after")),
        method=call.method,
        url=str(resp.request.url) if resp.request is not None else call.path,
    )


class EtagCache:
    """A bounded, thread-safe LRU of ``effective`` answers keyed by the user as asked."""

    def __init__(self, max_entries: int = 1024) -> None:
        self.max_entries = max_entries
        self._items: "OrderedDict[str, m.Effective]" = OrderedDict()
        self._lock = threading.Lock()
        #: Counters, for monitoring and tests: answers served from a ``304``, full answers.
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(user: m.UserRef) -> str:
        return str(user).lower() if isinstance(user, str) else str(user)

    def get(self, user: m.UserRef) -> Optional[m.Effective]:
        with self._lock:
            k = self.key(user)
            v = self._items.get(k)
            if v is not None:
                self._items.move_to_end(k)
            return v

    def put(self, user: m.UserRef, value: m.Effective) -> None:
        if self.max_entries <= 0:
            return
        with self._lock:
            k = self.key(user)
            self._items[k] = value
            self._items.move_to_end(k)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def note(self, hit: bool) -> None:
        with self._lock:
            if hit:
                self.hits += 1
            else:
                self.misses += 1

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


# --- the calls ------------------------------------------------------------------------------


def login(password: str, email: Optional[str], username: Optional[str]) -> Call[m.Login]:
    if (email is None) == (username is None):
        raise ValueError("give exactly one of `email` or `username`")
    body = _drop_none({"email": email, "username": username, "password": password})
    return Call("POST", "/api/login", lambda r: m.Login.from_json(r.json()), json=body)


def logout() -> Call[None]:
    return Call("POST", "/api/logout", _none, ok=(204,))


def me() -> Call[Dict[str, Any]]:
    return Call("GET", "/api/me", _json)


def check(
    privilege: str, user: Optional[m.UserRef], item: Optional[m.ItemArg], anonymous: bool
) -> Call[m.Decision]:
    return Call(
        "POST",
        "/api/check",
        lambda r: m.Decision.from_json(r.json()),
        json=m.check_body(privilege, user, item, anonymous),
    )


def check_batch(checks: Sequence[Mapping[str, Any]]) -> Call[List[Any]]:
    """Each result is a :class:`Decision`, or a :class:`GatehouseError` (not raised) in its
    place when that one check could not be answered."""

    def parse(r: httpx.Response) -> List[Any]:
        out: List[Any] = []
        for res in r.json()["results"]:
            if "error" in res:
                err = res["error"]
                status = {
                    "not_found": 404,
                    "invalid": 422,
                    "forbidden": 403,
                    "unauthorized": 401,
                }.get(err.get("code", ""), 400)
                out.append(error_from_body(status, res, "", method="POST", url="/api/check/batch"))
            else:
                out.append(m.Decision.from_json(res))
        return out

    return Call("POST", "/api/check/batch", parse, json={"checks": [dict(c) for c in checks]})


def effective(user: m.UserRef, etag: Optional[str]) -> Call[Optional[m.Effective]]:
    """``None`` means ``304``: the copy held is current."""

    def parse(r: httpx.Response) -> Optional[m.Effective]:
        if r.status_code == 304:
            return None
        return m.Effective.from_json(r.json(), etag=r.headers.get("etag"))

    headers = {"If-None-Match": etag} if etag else {}
    return Call("GET", user_path(user, "/effective"), parse, headers=headers, ok=(200, 304))


def who_can(
    privilege: str,
    item: Optional[m.ItemArg],
    expand_users: bool,
    after: Optional[int],
    limit: Optional[int],
) -> Call[m.WhoCan]:
    params: Optional[Dict[str, Any]] = None
    if expand_users:
        params = _drop_none({"expand": "users", "after": after, "limit": limit})
    elif after is not None or limit is not None:
        raise ValueError("`after` and `limit` page the users of expand_users=True")
    body: Dict[str, Any] = {"privilege": privilege}
    if item is not None:
        body["item"] = dict(item)
    return Call(
        "POST", "/api/who-can", lambda r: m.WhoCan.from_json(r.json()), json=body, params=params
    )


def list_filter(
    privilege: str, user: Optional[m.UserRef], anonymous: bool, dataset: Optional[str]
) -> Call[m.ListFilter]:
    body: Dict[str, Any] = {"privilege": privilege}
    if user is not None:
        body["user"] = user
    if anonymous:
        body["anonymous"] = True
    if dataset is not None:
        body["dataset"] = dataset
    return Call("POST", "/api/filter", lambda r: m.ListFilter.from_json(r.json()), json=body)


def az_evaluation(
    subject: Mapping[str, Any],
    action: Mapping[str, Any],
    resource: Mapping[str, Any],
    context: Optional[Mapping[str, Any]],
    request_id: Optional[str],
) -> Call[m.AzDecision]:
    body: Dict[str, Any] = {
        "subject": dict(subject),
        "action": dict(action),
        "resource": dict(resource),
    }
    if context is not None:
        body["context"] = dict(context)
    headers = {"X-Request-ID": request_id} if request_id else {}
    return Call(
        "POST",
        "/access/v1/evaluation",
        lambda r: m.AzDecision.from_json(r.json()),
        json=body,
        headers=headers,
    )


def az_evaluations(
    evaluations: Sequence[Mapping[str, Any]],
    subject: Optional[Mapping[str, Any]],
    action: Optional[Mapping[str, Any]],
    resource: Optional[Mapping[str, Any]],
    context: Optional[Mapping[str, Any]],
    semantic: Optional[str],
    request_id: Optional[str],
) -> Call[List[m.AzDecision]]:
    body: Dict[str, Any] = {"evaluations": [dict(e) for e in evaluations]}
    for k, v in (("subject", subject), ("action", action), ("resource", resource)):
        if v is not None:
            body[k] = dict(v)
    if context is not None:
        body["context"] = dict(context)
    if semantic is not None:
        body["options"] = {"evaluations_semantic": semantic}

    def parse(r: httpx.Response) -> List[m.AzDecision]:
        d = r.json()
        if "evaluations" in d:
            return [m.AzDecision.from_json(e) for e in d["evaluations"]]
        return [m.AzDecision.from_json(d)]

    headers = {"X-Request-ID": request_id} if request_id else {}
    return Call("POST", "/access/v1/evaluations", parse, json=body, headers=headers)


def authzen_configuration() -> Call[Dict[str, Any]]:
    return Call("GET", "/.well-known/authzen-configuration", _json)


# users


def list_users(
    q: Optional[str],
    type: Optional[str],
    active: Optional[bool],
    confirmed: Optional[bool],
    offset: int,
    limit: Optional[int],
) -> Call[m.UserPage]:
    params = _drop_none(
        {
            "q": q,
            "type": type,
            "active": None if active is None else str(active).lower(),
            "confirmed": None if confirmed is None else str(confirmed).lower(),
            "offset": offset or None,
            "limit": limit,
        }
    )
    return Call("GET", "/api/users", lambda r: m.UserPage.from_json(r.json()), params=params)


def get_user(user: m.UserRef) -> Call[m.User]:
    return Call("GET", user_path(user), lambda r: m.User.from_json(r.json()))


def create_user(body: Dict[str, Any]) -> Call[m.CreatedUser]:
    return Call(
        "POST",
        "/api/users",
        lambda r: m.CreatedUser.from_json(r.json()),
        json=_drop_none(body),
        ok=(201,),
    )


def update_profile(
    user: m.UserRef, full_name: Optional[str], affiliations: Optional[str]
) -> Call[m.ChangedUser]:
    return Call(
        "PATCH",
        user_path(user),
        lambda r: m.ChangedUser.from_json(r.json()),
        json=_drop_none({"full_name": full_name, "affiliations": affiliations}),
    )


def delete_user(user: m.UserRef) -> Call[None]:
    return Call("DELETE", user_path(user), _none, ok=(204,))


def _changed(method: str, path: str, body: Any = None) -> Call[m.ChangedUser]:
    return Call(method, path, lambda r: m.ChangedUser.from_json(r.json()), json=body)


def user_action(user: m.UserRef, action: str) -> Call[m.ChangedUser]:
    return _changed("POST", user_path(user, f"/{action}"))


def send_confirmation(user: m.UserRef) -> Call[Dict[str, Any]]:
    return Call("POST", user_path(user, "/send-confirmation"), _json, ok=(202,))


def set_type(user: m.UserRef, user_type: str) -> Call[m.ChangedUser]:
    return _changed("PUT", user_path(user, "/type"), {"type": user_type})


def set_roles(user: m.UserRef, roles: Sequence[str]) -> Call[m.ChangedUser]:
    return _changed("PUT", user_path(user, "/roles"), {"roles": list(roles)})


def entry(user: m.UserRef, entry: str, add: bool) -> Call[m.ChangedUser]:
    return _changed("POST" if add else "DELETE", user_path(user, "/entries"), {"entry": entry})


def set_scope(user: m.UserRef, filters: Sequence[str]) -> Call[m.ChangedUser]:
    return _changed("PUT", user_path(user, "/scope"), {"filters": list(filters)})


def set_password(
    user: m.UserRef, password: Optional[str], random: bool, current_password: Optional[str]
) -> Call[m.PasswordChanged]:
    if (password is None) == (not random):
        raise ValueError("give `password` or `random=True`")
    body = _drop_none(
        {"password": password, "random": True if random else None, "current_password": current_password}
    )
    return Call(
        "PUT", user_path(user, "/password"), lambda r: m.PasswordChanged.from_json(r.json()), json=body
    )


def privileges(user: m.UserRef) -> Call[m.Privileges]:
    return Call("GET", user_path(user, "/privileges"), lambda r: m.Privileges.from_json(r.json()))


# service tokens, roles, grants


def create_token(name: str, privileges: Sequence[str]) -> Call[m.ServiceToken]:
    return Call(
        "POST",
        "/api/tokens",
        lambda r: m.ServiceToken.from_json(r.json()),
        json={"name": name, "privileges": list(privileges)},
        ok=(201,),
    )


def list_tokens() -> Call[List[m.ServiceToken]]:
    return Call("GET", "/api/tokens", lambda r: [m.ServiceToken.from_json(t) for t in r.json()])


def revoke_token(name: str) -> Call[None]:
    return Call("DELETE", f"/api/tokens/{quote(name, safe='')}", _none, ok=(204,))


def list_roles() -> Call[List[Dict[str, Any]]]:
    return Call("GET", "/api/roles", _json)


def get_role(name: str) -> Call[Dict[str, Any]]:
    return Call("GET", f"/api/roles/{quote(name, safe='')}", _json)


def create_role(
    name: str, privileges: Sequence[str], description: Optional[str]
) -> Call[Dict[str, Any]]:
    body = _drop_none({"name": name, "privileges": list(privileges), "description": description})
    return Call("POST", "/api/roles", _json, json=body, ok=(200, 201))


def grant(effect: str, privilege: str, kind: str, name: str) -> Call[Dict[str, Any]]:
    if effect not in ("allow", "deny"):
        raise ValueError("effect is `allow` or `deny`")
    body = {"effect": effect, "privilege": privilege, "target": {"kind": kind, "name": str(name)}}
    return Call("POST", "/api/grants", _json, json=body)


def remove_grant(privilege: str, kind: str, name: str) -> Call[Dict[str, Any]]:
    body = {"privilege": privilege, "target": {"kind": kind, "name": str(name)}}
    return Call("DELETE", "/api/grants", _json, json=body)


def list_grants(user: Optional[m.UserRef], role: Optional[str]) -> Call[List[Dict[str, Any]]]:
    return Call("GET", "/api/grants", _json, params=_drop_none({"user": user, "role": role}))


def healthz() -> Call[Any]:
    return Call("GET", "/healthz", lambda r: r.json() if r.content else None)


def readyz() -> Call[Any]:
    return Call("GET", "/readyz", lambda r: r.json() if r.content else None)


def create_user_body(
    email: str,
    password: Optional[str],
    random_password: bool,
    username: Optional[str],
    full_name: Optional[str],
    affiliations: Optional[str],
    active: Optional[bool],
    confirm: Optional[bool],
    user_type: Optional[str],
    roles: Optional[Sequence[str]],
) -> Dict[str, Any]:
    return {
        "email": email,
        "password": password,
        "random_password": True if random_password else None,
        "username": username,
        "full_name": full_name,
        "affiliations": affiliations,
        "active": active,
        "confirm": confirm,
        "type": user_type,
        "roles": list(roles) if roles is not None else None,
    }


__all__ = ["Call", "EtagCache", "RetryPolicy", "GatehouseError", "parse_retry_after", "raise_for"]
