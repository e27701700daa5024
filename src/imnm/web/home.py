"""The start page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from imnm.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request) -> Response:
    return render(request, "home.html", {"title": "IMNM Navigator"})
