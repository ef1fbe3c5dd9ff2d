"""Exceptions carrying Gatehouse's error code and message.

Every error answer of the server has one shape, ``{"error": {"code": "...", "message": "..."}}``
(``docs/api.md``). :class:`GatehouseError` keeps the HTTP status, that stable ``code`` and the
``message``; a subclass per status lets callers catch what they handle.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Type


class GatehouseError(Exception):
    """An error answer from Gatehouse (or no answer at all, ``status`` 0).

    Attributes:
        status: the HTTP status (0 when the server could not be reached).
        code: the server's stable error code (``invalid``, ``not_found``, ``forbidden``, ...).
        message: the server's message, naming the field or value at fault.
        body: the decoded error body, when there was one.
        retry_after: seconds from a ``Retry-After`` header (429, 503), if any.
        method, url: the request that failed.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        body: Optional[Any] = None,
        retry_after: Optional[float] = None,
        method: str = "",
        url: str = "",
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.body = body
        self.retry_after = retry_after
        self.method = method
        self.url = url

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r})"
        )


class TransportError(GatehouseError):
    """The server could not be reached (connection refused, timeout, ...)."""


class BadRequest(GatehouseError):
    """400: the body is not JSON, a bad query parameter, or a malformed AuthZEN request."""


class Unauthorized(GatehouseError):
    """401: no or bad token (``unauthorized``) or a refused log in (``invalid_credentials``)."""


class Forbidden(GatehouseError):
    """403: a missing privilege, or ``email_unconfirmed`` / ``account_disabled`` at log in."""


class NotFound(GatehouseError):
    """404: unknown user, role, token or endpoint."""


class MethodNotAllowed(GatehouseError):
    """405."""


class Conflict(GatehouseError):
    """409: a taken email, username or token name."""


class PayloadTooLarge(GatehouseError):
    """413."""


class UnsupportedMediaType(GatehouseError):
    """415."""


class ValidationError(GatehouseError):
    """422 ``invalid``: unknown fields, wrong types, bad values (the message names the field)."""


class TooManyRequests(GatehouseError):
    """429: a throttled log in; see :attr:`retry_after`."""


class ServerError(GatehouseError):
    """500 and other 5xx answers."""


class ServiceUnavailable(ServerError):
    """503 after the client's retries were used up."""


_BY_STATUS: Dict[int, Type[GatehouseError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    409: Conflict,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: ValidationError,
    429: TooManyRequests,
    503: ServiceUnavailable,
}


def error_class(status: int) -> Type[GatehouseError]:
    """The exception class for an HTTP status."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    return GatehouseError


def error_from_body(
    status: int,
    body: Any,
    text: str,
    *,
    retry_after: Optional[float] = None,
    method: str = "",
    url: str = "",
) -> GatehouseError:
    """Builds the exception for an error answer; tolerates bodies of another shape."""
    code = f"http_{status}"
    message = text.strip()[:500] or f"HTTP {status}"
    if isinstance(body, Mapping):
        err = body.get("error")
        if isinstance(err, Mapping):
            code = str(err.get("code", code))
            message = str(err.get("message", message))
    return error_class(status)(
        status, code, message, body=body, retry_after=retry_after, method=method, url=url
    )
