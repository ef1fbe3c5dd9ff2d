"""Typed views of Gatehouse's answers (``docs/openapi.json``).

Each answer class is a frozen dataclass built by ``from_json``; fields the server adds later
are kept in ``raw`` so nothing is lost. Request bodies are ``TypedDict``s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Union

from typing import Literal, TypedDict

#: A user named in a request: a numeric id or an email.
UserRef = Union[int, str]
#: An owner of an item: a user id or an email.
Owner = Union[int, str]


class _ItemRequired(TypedDict):
    dataset: str


class Item(_ItemRequired, total=False):
    """The item a privilege is checked against (``ItemIn``)."""

    status: Optional[str]
    owners: List[Owner]
    fields: Dict[str, List[str]]


#: What calls accept as an item: an :class:`Item`, or any mapping of the same shape.
ItemArg = Union[Item, Mapping[str, Any]]


class CheckSpec(TypedDict, total=False):
    """One check of a batch (``CheckRequest``)."""

    user: Optional[UserRef]
    anonymous: bool
    privilege: str
    item: Optional[Item]


def _s(v: Any) -> Optional[str]:
    return None if v is None else str(v)


@dataclass(frozen=True)
class User:
    """A user as the API shows it (``UserOut``)."""

    id: int
    email: str
    username: Optional[str]
    full_name: str
    affiliations: str
    active: bool
    confirmed: bool
    confirmed_at: Optional[str]
    type: Optional[str]
    roles: List[str]
    editorial_scope: List[str]
    created: str
    updated: str
    raw: Dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "User":
        return cls(
            id=int(d["id"]),
            email=d["email"],
            username=d.get("username"),
            full_name=d.get("full_name", ""),
            affiliations=d.get("affiliations", ""),
            active=bool(d["active"]),
            confirmed=bool(d["confirmed"]),
            confirmed_at=d.get("confirmed_at"),
            type=d.get("type"),
            roles=list(d.get("roles", [])),
            editorial_scope=list(d.get("editorial_scope", [])),
            created=d.get("created", ""),
            updated=d.get("updated", ""),
            raw=dict(d),
        )


@dataclass(frozen=True)
class UserPage:
    """A page of users (``UserPage``)."""

    total: int
    users: List[User]

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "UserPage":
        return cls(total=int(d["total"]), users=[User.from_json(u) for u in d["users"]])


@dataclass(frozen=True)
class ChangedUser:
    """A change and the user after it."""

    changed: bool
    user: User

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "ChangedUser":
        return cls(changed=bool(d["changed"]), user=User.from_json(d["user"]))


@dataclass(frozen=True)
class CreatedUser:
    """A created user; ``generated_password`` is shown once."""

    user: User
    generated_password: Optional[str]
    confirmation_sent: bool

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "CreatedUser":
        return cls(
            user=User.from_json(d["user"]),
            generated_password=d.get("generated_password"),
            confirmation_sent=bool(d.get("confirmation_sent", False)),
        )


@dataclass(frozen=True)
class PasswordChanged:
    """A password change; ``generated_password`` is shown once."""

    user: User
    generated_password: Optional[str]

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "PasswordChanged":
        return cls(user=User.from_json(d["user"]), generated_password=d.get("generated_password"))


@dataclass(frozen=True)
class Login:
    """A successful log in: the bearer token (kept by the client), its expiry and the user."""

    token: str = field(repr=False)
    expires: str
    user: User

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Login":
        return cls(token=d["token"], expires=d["expires"], user=User.from_json(d["user"]))


@dataclass(frozen=True)
class Reason:
    """One reason of a decision."""

    kind: str
    bit: int
    privilege: str
    source: str

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Reason":
        return cls(kind=d["kind"], bit=int(d["bit"]), privilege=d["privilege"], source=d["source"])


@dataclass(frozen=True)
class Decision:
    """``/api/check``'s answer: the EPrints bitmask (1 public, 2 user, 4 owner, 8 editor)."""

    allowed: bool
    mask: int
    public: bool
    user: bool
    owner: bool
    editor: bool
    reasons: List[Reason]

    def __bool__(self) -> bool:
        return self.allowed

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Decision":
        return cls(
            allowed=bool(d["allowed"]),
            mask=int(d["mask"]),
            public=bool(d["public"]),
            user=bool(d["user"]),
            owner=bool(d["owner"]),
            editor=bool(d["editor"]),
            reasons=[Reason.from_json(r) for r in d.get("reasons", [])],
        )


@dataclass(frozen=True)
class Privileges:
    """``GET /api/users/{user}/privileges``: strings with their sources."""

    user: str
    active: bool
    superuser: bool
    privileges: List[Dict[str, str]]
    denied: List[Dict[str, str]]
    public: List[Dict[str, str]]

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Privileges":
        return cls(
            user=d["user"],
            active=bool(d["active"]),
            superuser=bool(d["superuser"]),
            privileges=list(d.get("privileges", [])),
            denied=list(d.get("denied", [])),
            public=list(d.get("public", [])),
        )


@dataclass(frozen=True)
class Effective:
    """A user's effective set (``GET /api/users/{user}/effective``).

    ``generation`` changes whenever anything the answer depends on changes; the client sends
    it back as ``If-None-Match`` and reuses this object on ``304``.
    """

    id: int
    email: str
    username: Optional[str]
    active: bool
    user_type: Optional[str]
    type_entries: List[str]
    entries: List[str]
    roles: List[str]
    privileges: List[str]
    denied: List[str]
    editorial_scope: List[str]
    superuser: bool
    generation: str
    etag: Optional[str] = None
    raw: Dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    def holds(self, privilege: str) -> bool:
        """Whether the exact string (with any ``:owner`` / ``:editor`` suffix) is held."""
        return privilege in self.privileges

    @classmethod
    def from_json(cls, d: Mapping[str, Any], etag: Optional[str] = None) -> "Effective":
        return cls(
            id=int(d["id"]),
            email=d["email"],
            username=d.get("username"),
            active=bool(d["active"]),
            user_type=d.get("user_type"),
            type_entries=list(d.get("type_entries", [])),
            entries=list(d.get("entries", [])),
            roles=list(d.get("roles", [])),
            privileges=list(d.get("privileges", [])),
            denied=list(d.get("denied", [])),
            editorial_scope=list(d.get("editorial_scope", [])),
            superuser=bool(d.get("superuser", False)),
            generation=str(d["generation"]),
            etag=etag,
            raw=dict(d),
        )


@dataclass(frozen=True)
class Holds:
    """What users of one shape hold, before their own facts are known (``HoldsOut``)."""

    public: bool
    user: bool
    owner: bool
    editor: bool
    editperms_none_by_default: bool

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Holds":
        return cls(
            public=bool(d.get("public", False)),
            user=bool(d.get("user", False)),
            owner=bool(d.get("owner", False)),
            editor=bool(d.get("editor", False)),
            editperms_none_by_default=bool(d.get("editperms_none_by_default", False)),
        )


@dataclass(frozen=True)
class Admitted:
    """A user a who-can answer admits, with the check's mask for them."""

    id: int
    email: str
    mask: int

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Admitted":
        return cls(id=int(d["id"]), email=d["email"], mask=int(d["mask"]))


@dataclass(frozen=True)
class AdmittedPage:
    """A page of admitted users; pass ``next`` as ``after`` for the next page."""

    items: List[Admitted]
    next: Optional[int]

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "AdmittedPage":
        return cls(items=[Admitted.from_json(a) for a in d["items"]], next=d.get("next"))


@dataclass(frozen=True)
class WhoCan:
    """Who may exercise a privilege (``POST /api/who-can``). Nested parts stay plain dicts
    (``types``, ``roles``, ``system_roles``, ``owner``, ``editor``, ``excludes``, ``users``)
    as the OpenAPI document describes them."""

    privilege: str
    tested: List[str]
    anonymous: bool
    scoped: bool
    types: List[Dict[str, Any]]
    untyped: Holds
    roles: List[Dict[str, Any]]
    system_roles: List[Dict[str, Any]]
    owner: Optional[Dict[str, Any]]
    editor: Optional[Dict[str, Any]]
    excludes: List[Dict[str, Any]]
    users: List[Dict[str, Any]]
    admitted: Optional[AdmittedPage]
    raw: Dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "WhoCan":
        adm = d.get("admitted")
        return cls(
            privilege=d["privilege"],
            tested=list(d.get("tested", [])),
            anonymous=bool(d.get("anonymous", False)),
            scoped=bool(d.get("scoped", False)),
            types=list(d.get("types", [])),
            untyped=Holds.from_json(d.get("untyped", {})),
            roles=list(d.get("roles", [])),
            system_roles=list(d.get("system_roles", [])),
            owner=d.get("owner"),
            editor=d.get("editor"),
            excludes=list(d.get("excludes", [])),
            users=list(d.get("users", [])),
            admitted=AdmittedPage.from_json(adm) if adm is not None else None,
            raw=dict(d),
        )


@dataclass(frozen=True)
class OwnerIs:
    """The owner a filter condition asks for."""

    id: int
    email: Optional[str]


@dataclass(frozen=True)
class FilterCondition:
    """One condition of a list filter; an item matching every present part gets ``bit``."""

    bit: str
    status: Optional[List[str]]
    owner: Optional[OwnerIs]
    scope: Optional[List[Dict[str, List[str]]]]

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "FilterCondition":
        o = d.get("owner")
        return cls(
            bit=d["bit"],
            status=list(d["status"]) if d.get("status") is not None else None,
            owner=OwnerIs(id=int(o["id"]), email=o.get("email")) if o is not None else None,
            scope=[dict(f) for f in d["scope"]] if d.get("scope") is not None else None,
        )

    def matches(self, item: Mapping[str, Any]) -> bool:
        """Whether ``item`` (shaped like :class:`Item`) meets every present part."""
        if self.status is not None and item.get("status") not in self.status:
            return False
        if self.owner is not None:
            owners = list(item.get("owners") or [])
            wanted = {self.owner.id, str(self.owner.id)}
            if self.owner.email is not None:
                wanted.add(self.owner.email)
                wanted.add(self.owner.email.lower())
            if not any((o.lower() if isinstance(o, str) else o) in wanted for o in owners):
                return False
        if self.scope is not None:
            fields = item.get("fields") or {}
            if not any(
                all(set(values) & set(fields.get(name) or []) for name, values in f.items())
                for f in self.scope
            ):
                return False
        return True


Coverage = Literal["all", "none", "some"]


@dataclass(frozen=True)
class ListFilter:
    """Which items of a dataset a user may act on (``POST /api/filter``): ``all``, ``none``,
    or those matching one of ``conditions``."""

    dataset: str
    privilege: str
    coverage: str
    conditions: List[FilterCondition]
    raw: Dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "ListFilter":
        return cls(
            dataset=d["dataset"],
            privilege=d["privilege"],
            coverage=d["coverage"],
            conditions=[FilterCondition.from_json(c) for c in d.get("conditions", [])],
            raw=dict(d),
        )

    def matches(self, item: Mapping[str, Any]) -> bool:
        """Evaluates the filter on one item, as a search index would."""
        if self.coverage == "all":
            return True
        if self.coverage == "none":
            return False
        return any(c.matches(item) for c in self.conditions)


@dataclass(frozen=True)
class AzDecision:
    """An AuthZEN decision; ``context`` holds Gatehouse's ``mask`` and ``reasons``, or the
    ``error`` of an element that could not be decided."""

    decision: bool
    context: Dict[str, Any]

    def __bool__(self) -> bool:
        return self.decision

    @property
    def mask(self) -> Optional[int]:
        m = self.context.get("mask")
        return None if m is None else int(m)

    @property
    def error(self) -> Optional[Dict[str, Any]]:
        return self.context.get("error")

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "AzDecision":
        return cls(decision=bool(d["decision"]), context=dict(d.get("context") or {}))


@dataclass(frozen=True)
class ServiceToken:
    """A service token; ``token`` only when just created."""

    name: str
    privileges: List[str]
    created: str
    token: Optional[str] = field(default=None, repr=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "ServiceToken":
        return cls(
            name=d["name"],
            privileges=list(d.get("privileges", [])),
            created=d.get("created", ""),
            token=d.get("token"),
        )


def check_body(
    privilege: str,
    user: Optional[UserRef] = None,
    item: Optional[ItemArg] = None,
    anonymous: bool = False,
) -> Dict[str, Any]:
    """A ``CheckRequest`` body."""
    body: Dict[str, Any] = {"privilege": privilege}
    if user is not None:
        body["user"] = user
    if anonymous:
        body["anonymous"] = True
    if item is not None:
        body["item"] = dict(item)
    return body


def az_subject(user: Optional[UserRef]) -> Dict[str, Any]:
    """An AuthZEN subject: a user by email or id, or anonymous for ``None``."""
    if user is None:
        return {"type": "anonymous", "id": "-"}
    return {"type": "user", "id": str(user)}


def az_resource(item: Optional[ItemArg], resource_id: str = "-") -> Dict[str, Any]:
    """An AuthZEN resource from a Gatehouse item (``gatehouse`` for no item)."""
    if item is None:
        return {"type": "gatehouse", "id": "-"}
    props: Dict[str, Any] = {}
    if item.get("status") is not None:
        props["status"] = item["status"]
    if item.get("owners"):
        props["owners"] = list(item["owners"])
    if item.get("fields"):
        props["fields"] = dict(item["fields"])
    return {"type": item["dataset"], "id": str(resource_id), "properties": props}


__all__ = [
    "Admitted",
    "AdmittedPage",
    "AzDecision",
    "ChangedUser",
    "CheckSpec",
    "CreatedUser",
    "Decision",
    "Effective",
    "FilterCondition",
    "Holds",
    "Item",
    "ItemArg",
    "ListFilter",
    "Login",
    "Owner",
    "OwnerIs",
    "PasswordChanged",
    "Privileges",
    "Reason",
    "ServiceToken",
    "User",
    "UserPage",
    "UserRef",
    "WhoCan",
    "check_body",
    "az_subject",
    "az_resource",
]

