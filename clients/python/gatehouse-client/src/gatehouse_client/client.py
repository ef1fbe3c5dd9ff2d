"""The synchronous client."""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, TypeVar

import httpx

from . import _core as c
from . import models as m
from .errors import TransportError

T = TypeVar("T")


class Client:
    """A synchronous Gatehouse client on :mod:`httpx`.

    ``Client("http://127.0.0.1:8080", token="...")`` for a service token, or
    ``Client(url).login(email=..., password=...)`` to log in; the bearer token is then sent
    with every request. Use it as a context manager, or call :meth:`close`.

    ``503`` answers are retried (see :class:`RetryPolicy`); other error answers raise a
    :class:`~gatehouse_client.errors.GatehouseError` subclass carrying the server's ``code``.
    ``effective`` answers are cached per user and revalidated with ``If-None-Match``.
    """

    def __init__(
        self,
        base_url: str,
        token: Optional[str] = None,
        *,
        timeout: float = 10.0,
        retry: Optional[c.RetryPolicy] = None,
        cache_size: int = 1024,
        transport: Optional[httpx.BaseTransport] = None,
        sleep: Callable[[float], None] = time.sleep,
        http: Optional[httpx.Client] = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry or c.RetryPolicy()
        self.effective_cache = c.EtagCache(cache_size)
        self._sleep = sleep
        self._token: Optional[str] = token
        self._own_http = http is None
        self._http = http or httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": c.USER_AGENT, "Accept": "application/json"},
        )

    # --- plumbing ---------------------------------------------------------------------------

    @property
    def token(self) -> Optional[str]:
        """The bearer token sent with each request (from :meth:`login` or the constructor)."""
        return self._token

    @token.setter
    def token(self, value: Optional[str]) -> None:
        self._token = value
        self.effective_cache.clear()

    def close(self) -> None:
        if self._own_http:
            self._http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _send(self, call: c.Call[T]) -> T:
        headers = dict(call.headers)
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        attempt = 0
        while True:
            try:
                resp = self._http.request(
                    call.method,
                    call.path,
                    json=call.json,
                    params=call.params,
                    headers=headers,
                )
            except httpx.HTTPError as e:
                raise TransportError(
                    0, "transport", str(e) or type(e).__name__, method=call.method, url=call.path
                ) from e
            # The API authenticates by bearer token; never let a session cookie stand in.
            self._http.cookies.clear()
            if resp.status_code in self.retry.statuses and attempt < self.retry.max_retries:
                wait = self.retry.delay(
                    attempt, c.parse_retry_after(resp.headers.get("retry-after"))
                )
                resp.close()
                attempt += 1
                self._sleep(wait)
                continue
            c.raise_for(resp, call)
            return call.parse(resp)

    # --- session ----------------------------------------------------------------------------

    def login(
        self, *, password: str, email: Optional[str] = None, username: Optional[str] = None
    ) -> m.Login:
        """Logs in; keeps the returned bearer token for the following calls."""
        result = self._send(c.login(password, email, username))
        self.token = result.token
        return result

    def logout(self) -> None:
        """Ends the current token's session on the server and forgets the token."""
        self._send(c.logout())
        self.token = None

    def me(self) -> Dict[str, Any]:
        """``GET /api/me``: the logged-in user and their privileges."""
        return self._send(c.me())

    # --- asking the engine ------------------------------------------------------------------

    def check(
        self,
        privilege: str,
        *,
        user: Optional[m.UserRef] = None,
        item: Optional[m.ItemArg] = None,
        anonymous: bool = False,
    ) -> m.Decision:
        """``POST /api/check``: may ``user`` (default: the caller) exercise ``privilege``?"""
        return self._send(c.check(privilege, user, item, anonymous))

    def check_batch(self, checks: Sequence[Mapping[str, Any]]) -> List[Any]:
        """``POST /api/check/batch``: a :class:`Decision` per check, in order, or a
        :class:`GatehouseError` (returned, not raised) for a check that had an error."""
        return self._send(c.check_batch(checks))

    def effective(self, user: m.UserRef, *, use_cache: bool = True) -> m.Effective:
        """``GET /api/users/{user}/effective``, revalidating a cached copy with
        ``If-None-Match``: a ``304`` returns the cached object unchanged."""
        cached = self.effective_cache.get(user) if use_cache else None
        fresh = self._send(c.effective(user, cached.etag if cached else None))
        if fresh is None:
            if cached is None:  # pragma: no cover - the server sent 304 unasked
                raise RuntimeError("304 without a cached copy")
            self.effective_cache.note(hit=True)
            return cached
        self.effective_cache.note(hit=False)
        if use_cache:
            self.effective_cache.put(user, fresh)
        return fresh

    def who_can(
        self,
        privilege: str,
        *,
        item: Optional[m.ItemArg] = None,
        expand_users: bool = False,
        after: Optional[int] = None,
        limit: Optional[int] = None,
    ) -> m.WhoCan:
        """``POST /api/who-can``; with ``expand_users`` one page of admitted users."""
        return self._send(c.who_can(privilege, item, expand_users, after, limit))

    def iter_who_can_users(
        self, privilege: str, *, item: Optional[m.ItemArg] = None, page_size: int = 100
    ) -> Iterator[m.Admitted]:
        """Every user ``who_can`` admits, following ``next`` page by page."""
        after: Optional[int] = None
        while True:
            page = self.who_can(
                privilege, item=item, expand_users=True, after=after, limit=page_size
            ).admitted
            if page is None:  # pragma: no cover - the server ignored expand=users
                raise RuntimeError("who-can answered without `admitted`")
            yield from page.items
            if page.next is None:
                return
            after = page.next

    def filter(
        self,
        privilege: str,
        *,
        user: Optional[m.UserRef] = None,
        anonymous: bool = False,
        dataset: Optional[str] = None,
    ) -> m.ListFilter:
        """``POST /api/filter``: which items of a dataset ``user`` may act on."""
        return self._send(c.list_filter(privilege, user, anonymous, dataset))

    # --- AuthZEN 1.0 ------------------------------------------------------------------------

    def evaluation(
        self,
        subject: Mapping[str, Any],
        action: Mapping[str, Any],
        resource: Mapping[str, Any],
        *,
        context: Optional[Mapping[str, Any]] = None,
        request_id: Optional[str] = None,
    ) -> m.AzDecision:
        """``POST /access/v1/evaluation`` with AuthZEN's own shapes (see
        :func:`~gatehouse_client.models.az_subject` and ``az_resource``)."""
        return self._send(c.az_evaluation(subject, action, resource, context, request_id))

    def evaluations(
        self,
        evaluations: Sequence[Mapping[str, Any]],
        *,
        subject: Optional[Mapping[str, Any]] = None,
        action: Optional[Mapping[str, Any]] = None,
        resource: Optional[Mapping[str, Any]] = None,
        context: Optional[Mapping[str, Any]] = None,
        semantic: Optional[str] = None,
        request_id: Optional[str] = None,
    ) -> List[m.AzDecision]:
        """``POST /access/v1/evaluations``: top-level defaults, one decision per element."""
        return self._send(
            c.az_evaluations(evaluations, subject, action, resource, context, semantic, request_id)
        )

    def authzen_configuration(self) -> Dict[str, Any]:
        """``GET /.well-known/authzen-configuration``."""
        return self._send(c.authzen_configuration())

    # --- users ------------------------------------------------------------------------------

    def list_users(
        self,
        q: Optional[str] = None,
        *,
        type: Optional[str] = None,
        active: Optional[bool] = None,
        confirmed: Optional[bool] = None,
        offset: int = 0,
        limit: Optional[int] = None,
    ) -> m.UserPage:
        """``GET /api/users``: one page (``q`` searches email, username, name, affiliations)."""
        return self._send(c.list_users(q, type, active, confirmed, offset, limit))

    def iter_users(
        self, q: Optional[str] = None, *, page_size: int = 100, **filters: Any
    ) -> Iterator[m.User]:
        """Every matching user, page by page."""
        offset = 0
        while True:
            page = self.list_users(q, offset=offset, limit=page_size, **filters)
            yield from page.users
            offset += len(page.users)
            if not page.users or offset >= page.total:
                return

    def get_user(self, user: m.UserRef) -> m.User:
        return self._send(c.get_user(user))

    def create_user(
        self,
        email: str,
        *,
        password: Optional[str] = None,
        random_password: bool = False,
        username: Optional[str] = None,
        full_name: Optional[str] = None,
        affiliations: Optional[str] = None,
        active: Optional[bool] = None,
        confirm: Optional[bool] = None,
        user_type: Optional[str] = None,
        roles: Optional[Sequence[str]] = None,
    ) -> m.CreatedUser:
        return self._send(
            c.create_user(
                c.create_user_body(
                    email, password, random_password, username, full_name, affiliations,
                    active, confirm, user_type, roles,
                )
            )
        )

    def update_profile(
        self, user: m.UserRef, *, full_name: Optional[str] = None, affiliations: Optional[str] = None
    ) -> m.ChangedUser:
        return self._send(c.update_profile(user, full_name, affiliations))

    def delete_user(self, user: m.UserRef) -> None:
        self._send(c.delete_user(user))

    def activate(self, user: m.UserRef) -> m.ChangedUser:
        return self._send(c.user_action(user, "activate"))

    def deactivate(self, user: m.UserRef) -> m.ChangedUser:
        return self._send(c.user_action(user, "deactivate"))

    def confirm(self, user: m.UserRef) -> m.ChangedUser:
        return self._send(c.user_action(user, "confirm"))

    def send_confirmation(self, user: m.UserRef) -> Dict[str, Any]:
        return self._send(c.send_confirmation(user))

    def set_type(self, user: m.UserRef, user_type: str) -> m.ChangedUser:
        return self._send(c.set_type(user, user_type))

    def set_roles(self, user: m.UserRef, roles: Sequence[str]) -> m.ChangedUser:
        return self._send(c.set_roles(user, roles))

    def add_entry(self, user: m.UserRef, entry: str) -> m.ChangedUser:
        """Adds a role name, ``+privilege`` or ``-privilege`` to the user's own entries."""
        return self._send(c.entry(user, entry, add=True))

    def remove_entry(self, user: m.UserRef, entry: str) -> m.ChangedUser:
        return self._send(c.entry(user, entry, add=False))

    def set_scope(self, user: m.UserRef, filters: Sequence[str]) -> m.ChangedUser:
        """Editorial scope filters ``field=v,v;field=v``; empty clears it."""
        return self._send(c.set_scope(user, filters))

    def set_password(
        self,
        user: m.UserRef,
        password: Optional[str] = None,
        *,
        random: bool = False,
        current_password: Optional[str] = None,
    ) -> m.PasswordChanged:
        return self._send(c.set_password(user, password, random, current_password))

    def privileges(self, user: m.UserRef) -> m.Privileges:
        return self._send(c.privileges(user))

    # --- service tokens, roles, grants ------------------------------------------------------

    def create_token(self, name: str, privileges: Sequence[str]) -> m.ServiceToken:
        return self._send(c.create_token(name, privileges))

    def list_tokens(self) -> List[m.ServiceToken]:
        return self._send(c.list_tokens())

    def revoke_token(self, name: str) -> None:
        self._send(c.revoke_token(name))

    def list_roles(self) -> List[Dict[str, Any]]:
        return self._send(c.list_roles())

    def get_role(self, name: str) -> Dict[str, Any]:
        return self._send(c.get_role(name))

    def create_role(
        self, name: str, privileges: Sequence[str] = (), *, description: Optional[str] = None
    ) -> Dict[str, Any]:
        return self._send(c.create_role(name, privileges, description))

    def grant(self, effect: str, privilege: str, *, kind: str, name: m.UserRef) -> Dict[str, Any]:
        """``POST /api/grants``: ``effect`` ``allow``/``deny`` to a ``user``, ``role`` or
        ``system_role``."""
        return self._send(c.grant(effect, privilege, kind, str(name)))

    def remove_grant(self, privilege: str, *, kind: str, name: m.UserRef) -> Dict[str, Any]:
        return self._send(c.remove_grant(privilege, kind, str(name)))

    def list_grants(
        self, *, user: Optional[m.UserRef] = None, role: Optional[str] = None
    ) -> List[Dict[str, Any]]:
        return self._send(c.list_grants(user, role))

    def healthz(self) -> Any:
        return self._send(c.healthz())

    def readyz(self) -> Any:
        return self._send(c.readyz())
