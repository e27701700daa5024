"""Users and teams (admin only). No route here shows clinical data."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from imnm.api.auth import Ctx, need
from imnm.api.body import body_doc, model_body
from imnm.store import users
from imnm.store.principal import Perm

router = APIRouter(tags=["admin"])


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class UserIn(_Strict):
    username: str = Field(max_length=100)
    password: str = Field(max_length=1000, description=f"at least {users.MIN_PASSWORD} characters")
    roles: list[str] = Field(description="clinician, coordinator, auditor, admin")
    teams: list[str] = Field(default_factory=list)
    display_name: str | None = Field(None, max_length=200)


class UserPatch(_Strict):
    roles: list[str] | None = None
    teams: list[str] | None = None


class TeamIn(_Strict):
    name: str = Field(max_length=100)


def _admin(action: str | None = None) -> Any:
    return Depends(need(Perm.ADMIN, audit=action))


@router.get("/users", summary="All users with roles and teams")
def list_users(ctx: Annotated[Ctx, _admin()]) -> dict[str, Any]:
    with ctx.session() as s:
        return {"users": [users.user_dict(s, u) for u in users.list_users(s)]}


@router.post("/users", status_code=201, openapi_extra=body_doc("UserIn"), summary="Create a user")
def create_user(
    ctx: Annotated[Ctx, _admin("user.create")], body: Annotated[UserIn, Depends(model_body(UserIn))]
) -> dict[str, Any]:
    assert ctx.trail is not None
    ctx.trail.detail = body.username
    with ctx.session() as s:
        u = users.create_user(
            s,
            body.username,
            body.password,
            roles=body.roles,
            teams=body.teams,
            display_name=body.display_name,
        )
        out = users.user_dict(s, u)
        ctx.record(s, 201)
    return out


@router.get("/users/{username}", summary="One user")
def get_user(username: str, ctx: Annotated[Ctx, _admin()]) -> dict[str, Any]:
    with ctx.session() as s:
        return users.user_dict(s, users.user_by_name(s, username))


@router.patch(
    "/users/{username}", openapi_extra=body_doc("UserPatch"), summary="Set a user's roles and/or teams"
)
def update_user(
    username: str,
    ctx: Annotated[Ctx, _admin("user.update")],
    body: Annotated[UserPatch, Depends(model_body(UserPatch))],
) -> dict[str, Any]:
    assert ctx.trail is not None
    ctx.trail.detail = f"{username}: roles={body.roles} teams={body.teams}"
    with ctx.session() as s:
        u = users.set_user(s, username, roles=body.roles, teams=body.teams)
        out = users.user_dict(s, u)
        ctx.record(s)
    return out


@router.post(
    "/users/{username}/disable", summary="Disable a user: no login; sessions end, tokens are revoked"
)
def disable_user(username: str, ctx: Annotated[Ctx, _admin("user.disable")]) -> dict[str, Any]:
    assert ctx.trail is not None
    ctx.trail.detail = username
    with ctx.session() as s:
        out = users.user_dict(s, users.disable_user(s, username))
        ctx.record(s)
    return out


@router.get("/teams", summary="All care teams")
def list_teams(ctx: Annotated[Ctx, _admin()]) -> dict[str, Any]:
    with ctx.session() as s:
        return {
            "teams": [{"name": t.name, "created_at": t.created_at.isoformat()} for t in users.list_teams(s)]
        }


@router.post("/teams", status_code=201, openapi_extra=body_doc("TeamIn"), summary="Create a care team")
def create_team(
    ctx: Annotated[Ctx, _admin("team.create")], body: Annotated[TeamIn, Depends(model_body(TeamIn))]
) -> dict[str, Any]:
    assert ctx.trail is not None
    ctx.trail.detail = body.name
    with ctx.session() as s:
        t = users.create_team(s, body.name)
        ctx.record(s, 201)
        return {"name": t.name, "created_at": t.created_at.isoformat()}
