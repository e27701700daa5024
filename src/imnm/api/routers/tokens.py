"""API tokens of the logged-in user: created (shown once), listed, revoked."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from imnm.api.auth import Ctx, need
from imnm.api.body import body_doc, model_body
from imnm.api.problems import MAX_INT
from imnm.store import users
from imnm.store.models import User
from imnm.store.principal import Perm

router = APIRouter(prefix="/tokens", tags=["tokens"])


class TokenIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    name: str = Field(min_length=1, max_length=200, description="what the token is for")
    scope: str = Field(description="read, write or compute")
    expires_in_days: float = Field(30, description=f"1 to {users.MAX_TOKEN_DAYS}")


@router.get("", summary="Your API tokens (never the secret)")
def list_tokens(ctx: Annotated[Ctx, Depends(need(Perm.SELF))]) -> dict[str, Any]:
    with ctx.session() as s:
        return {
            "tokens": [users.token_dict(s, t) for t in users.list_tokens(s, user_id=ctx.principal.user_id)]
        }


@router.post(
    "",
    status_code=201,
    openapi_extra=body_doc("TokenIn"),
    summary="Create a token; the secret is shown only now",
)
def create_token(
    ctx: Annotated[Ctx, Depends(need(Perm.SELF, audit="token.create"))],
    body: Annotated[TokenIn, Depends(model_body(TokenIn))],
) -> dict[str, Any]:
    with ctx.session() as s:
        u = s.get(User, ctx.principal.user_id)
        assert u is not None
        row, secret = users.create_token(s, u, name=body.name, scope=body.scope, days=body.expires_in_days)
        assert ctx.trail is not None
        ctx.trail.detail = f"token {row.id} scope {row.scope}"
        out = {**users.token_dict(s, row), "token": secret}
        ctx.record(s, 201)
    return out


@router.delete("/{token_id}", status_code=204, summary="Revoke one of your tokens")
def revoke_token(
    token_id: Annotated[int, Path(ge=1, le=MAX_INT)],
    ctx: Annotated[Ctx, Depends(need(Perm.SELF, audit="token.revoke"))],
) -> Response:
    assert ctx.trail is not None
    ctx.trail.detail = f"token {token_id}"
    with ctx.session() as s:
        users.revoke_token(s, token_id, owner=ctx.principal.user_id)
        ctx.record(s, 204)
    return Response(status_code=204)
