"""The API docs work behind a firewall: /docs and everything it loads come from this server."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import httpx

BASE_URL = "http://testserver"

_ATTRIBUTE_URL = re.compile(r"""\b(?:src|href)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_SCRIPT_URL = re.compile(r"""\b(?:url|oauth2RedirectUrl)\s*:\s*[^'"\n]*["']([^"']+)["']""")
# Any absolute or protocol-relative reference anywhere in the page, quoted or not.
_ABSOLUTE_URL = re.compile(r"""(?:https?:)?//[^\s"'<>()]+""", re.IGNORECASE)
_ASSET_TYPES = {
    "js": ("text/javascript", "application/javascript"),
    "css": ("text/css",),
    "png": ("image/png",),
}


def _referenced_urls(html: str) -> list[str]:
    return _ATTRIBUTE_URL.findall(html) + _SCRIPT_URL.findall(html)


def _is_local(url: str) -> bool:
    resolved = urlsplit(urljoin(f"{BASE_URL}/docs", url))
    return resolved.scheme in ("http", "https") and resolved.netloc == "testserver"


async def _docs_page(client: httpx.AsyncClient) -> str:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "SwaggerUIBundle(" in response.text
    return response.text


async def test_docs_reference_no_outside_host(client: httpx.AsyncClient) -> None:
    html = await _docs_page(client)
    referenced = _referenced_urls(html)
    assert len(referenced) >= 5, referenced  # css, favicon, js, schema, oauth2 redirect
    assert [u for u in referenced if not u.startswith("/") or u.startswith("//")] == []
    assert [u for u in referenced if not _is_local(u)] == []
    outside = [u for u in _ABSOLUTE_URL.findall(html) if not _is_local(u)]
    assert outside == [], f"/docs refers to other hosts: {outside}"


async def test_docs_point_at_this_servers_schema_and_oauth2_redirect(
    client: httpx.AsyncClient,
) -> None:
    html = await _docs_page(client)
    assert "url: '/openapi.json'" in html
    assert "oauth2RedirectUrl: window.location.origin + '/docs/oauth2-redirect'" in html
    assert '"persistAuthorization": true' in html
    assert '"validatorUrl": null' in html


async def test_every_asset_the_docs_load_is_served_here(client: httpx.AsyncClient) -> None:
    html = await _docs_page(client)
    assets = {u: u.rsplit(".", 1)[-1] for u in _referenced_urls(html)}
    assets = {url: kind for url, kind in assets.items() if kind in _ASSET_TYPES}
    assert sorted(assets.values()) == ["css", "js", "png"], assets
    for url, kind in assets.items():
        response = await client.get(url)
        assert response.status_code == 200, url
        content_type = response.headers["content-type"].split(";")[0]
        assert content_type in _ASSET_TYPES[kind], (url, content_type)
        assert len(response.content) > 100, url
        assert response.headers["x-request-id"], url
    bundle = await client.get(next(u for u in assets if u.endswith(".js")))
    assert "SwaggerUIBundle" in bundle.text


async def test_a_missing_asset_is_a_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs/assets/no-such-file.js")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_the_oauth2_redirect_page_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs/oauth2-redirect")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "swaggerUIRedirectOauth2" in response.text
    assert [u for u in _ABSOLUTE_URL.findall(response.text) if not _is_local(u)] == []


async def test_the_schema_is_still_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")
    assert "/api/v1/auth/token" in response.json()["paths"]
