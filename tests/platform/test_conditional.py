"""ETags: If-Match for optimistic concurrency, If-None-Match for cheap polling."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request, Response
from pydantic import BaseModel

from app.domain.errors import BadRequest
from app.http.conditional import cached_json, parse_if_match, version_etag

# --- If-Match ---------------------------------------------------------------------------------


def test_version_etag_is_a_strong_quoted_tag() -> None:
    assert version_etag(7) == '"7"'
    assert parse_if_match(version_etag(7)).versions == frozenset({7})


@pytest.mark.parametrize("header", [None, "*", "  *  "])
def test_no_header_or_star_sets_no_precondition(header: str | None) -> None:
    assert parse_if_match(header).versions is None


@pytest.mark.parametrize(
    ("header", "versions"),
    [
        ('"3"', {3}),
        ('"3", "5"', {3, 5}),
        ('"3","5" , "8"', {3, 5, 8}),
        ('W/"3"', set()),  # weak tags never match under strong comparison
        ('W/"3", "4"', {4}),
        ('"abc"', set()),  # a tag this API never hands out matches no version
        ('""', set()),
    ],
)
def test_if_match_lists_the_accepted_versions(header: str, versions: set[int]) -> None:
    assert parse_if_match(header).versions == frozenset(versions)


@pytest.mark.parametrize("header", ["3", '"3', '3"', "", " ", '"3", 4', '"3",', "'3'"])
def test_malformed_if_match_is_a_bad_request(header: str) -> None:
    with pytest.raises(BadRequest):
        parse_if_match(header)


# --- If-None-Match through a route ------------------------------------------------------------


class Snapshot(BaseModel):
    name: str
    count: int


state = {"count": 1}
router = APIRouter()


@router.get("/snapshot")
async def snapshot(request: Request) -> Response:
    return cached_json(request, Snapshot(name="stock", count=state["count"]), max_age=30)


@pytest.fixture
async def test_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    state["count"] = 1
    app.include_router(router, prefix="/test-only")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_first_get_has_an_etag(test_client: httpx.AsyncClient) -> None:
    response = await test_client.get("/test-only/snapshot")
    assert response.status_code == 200
    assert response.json() == {"name": "stock", "count": 1}
    assert response.headers["content-type"] == "application/json"
    etag = response.headers["ETag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    assert len(etag) > 2
    assert "max-age=30" in response.headers["Cache-Control"]
    assert "private" in response.headers["Cache-Control"]
    again = await test_client.get("/test-only/snapshot")
    assert again.headers["ETag"] == etag  # same content, same tag


@pytest.mark.parametrize(
    "if_none_match", ["{etag}", "W/{etag}", '"other", {etag}', "*", " {etag} "]
)
async def test_matching_if_none_match_is_304_without_body(
    test_client: httpx.AsyncClient, if_none_match: str
) -> None:
    etag = (await test_client.get("/test-only/snapshot")).headers["ETag"]
    response = await test_client.get(
        "/test-only/snapshot", headers={"If-None-Match": if_none_match.format(etag=etag)}
    )
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["ETag"] == etag
    assert "Cache-Control" in response.headers


async def test_other_etag_gets_the_full_response(test_client: httpx.AsyncClient) -> None:
    response = await test_client.get("/test-only/snapshot", headers={"If-None-Match": '"stale"'})
    assert response.status_code == 200
    assert response.json() == {"name": "stock", "count": 1}


async def test_changed_content_gets_200_with_a_new_etag(test_client: httpx.AsyncClient) -> None:
    old = (await test_client.get("/test-only/snapshot")).headers["ETag"]
    state["count"] = 2
    response = await test_client.get("/test-only/snapshot", headers={"If-None-Match": old})
    assert response.status_code == 200
    assert response.json() == {"name": "stock", "count": 2}
    new = response.headers["ETag"]
    assert new != old
    cached = await test_client.get("/test-only/snapshot", headers={"If-None-Match": new})
    assert cached.status_code == 304
