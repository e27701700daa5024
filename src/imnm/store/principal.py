"""Who is acting, and what they may do.

A principal is a user (through a login session, an API token, or the command line as the local
operator). Roles grant permissions; a token's scope narrows them further; teams bound which
patients are visible. Permission checks happen before any patient is looked up, so a refusal
by role (403) never depends on whether the patient exists; a patient outside one's teams is 404.

| role        | permissions |
|-------------|-------------|
| clinician   | compute, catalog, patient.read, patient.write, review.write, self |
| coordinator | compute, catalog, patient.read, review.write, self |
| auditor     | catalog, audit.read, self |
| admin       | catalog, admin (users, teams, erasure), self |

| token scope | permissions it can use (of those the user's roles give) |
|-------------|-------------|
| compute     | compute, catalog |
| read        | compute, catalog, patient.read, audit.read, me |
| write       | everything |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Perm(StrEnum):
    COMPUTE = "compute"
    CATALOG = "catalog"
    PATIENT_READ = "patient.read"
    PATIENT_WRITE = "patient.write"
    REVIEW_WRITE = "review.write"
    AUDIT_READ = "audit.read"
    ADMIN = "admin"
    ME = "me"  # read one's own account
    SELF = "self"  # manage one's own tokens, log out


ROLE_PERMS: dict[str, frozenset[Perm]] = {
    "clinician": frozenset(
        {
            Perm.COMPUTE,
            Perm.CATALOG,
            Perm.PATIENT_READ,
            Perm.PATIENT_WRITE,
            Perm.REVIEW_WRITE,
            Perm.ME,
            Perm.SELF,
        }
    ),
    "coordinator": frozenset(
        {Perm.COMPUTE, Perm.CATALOG, Perm.PATIENT_READ, Perm.REVIEW_WRITE, Perm.ME, Perm.SELF}
    ),
    "auditor": frozenset({Perm.CATALOG, Perm.AUDIT_READ, Perm.ME, Perm.SELF}),
    "admin": frozenset({Perm.CATALOG, Perm.ADMIN, Perm.ME, Perm.SELF}),
}

SCOPE_PERMS: dict[str, frozenset[Perm]] = {
    "compute": frozenset({Perm.COMPUTE, Perm.CATALOG}),
    "read": frozenset({Perm.COMPUTE, Perm.CATALOG, Perm.PATIENT_READ, Perm.AUDIT_READ, Perm.ME}),
    "write": frozenset(Perm),
}


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int | None
    username: str
    roles: frozenset[str]
    team_ids: frozenset[int] = field(default_factory=frozenset)
    token_id: int | None = None
    scope: str | None = None  # None: a login session or the local operator
    session_id: int | None = None
    operator: bool = False  # the command line acting directly on the database

    @property
    def perms(self) -> frozenset[Perm]:
        if self.operator:
            return frozenset(Perm)
        granted: set[Perm] = set()
        for r in self.roles:
            granted |= ROLE_PERMS.get(r, frozenset())
        if self.scope is not None:
            granted &= SCOPE_PERMS[self.scope]
        return frozenset(granted)

    def can(self, perm: Perm) -> bool:
        return perm in self.perms

    def sees_team(self, team_id: int) -> bool:
        return self.operator or team_id in self.team_ids

    @property
    def roles_text(self) -> str:
        return "operator" if self.operator else ",".join(sorted(self.roles))

    @property
    def actor(self) -> str:
        return self.username if self.token_id is None else f"{self.username} (token {self.token_id})"


def operator(name: str | None = None) -> Principal:
    """The local operator (the `imnm` command line with direct database access)."""
    import getpass

    who = name or getpass.getuser()
    return Principal(user_id=None, username=f"cli:{who}", roles=frozenset(), operator=True)
