"""httpx clients that behave like a browser: CSRF cookie and token, session cookie."""
from __future__ import annotations

import re

import httpx

TOKEN_INPUT = re.compile(r'name="csrftoken" value="([^"]+)"')


class Browserish(httpx.AsyncClient):
    """An AsyncClient that adds the CSRF token to form posts, as the site's own forms do."""

    def __init__(self, base_url: str, **kwargs):
        kwargs.setdefault("timeout", 30)
        super().__init__(base_url=base_url, headers={"Origin": base_url}, **kwargs)

    async def csrf(self) -> str:
        if "csrftoken" not in self.cookies:
            page = await self.get("/login")
            match = TOKEN_INPUT.search(page.text)
            assert match, "no CSRF token on /login"
        return self.cookies["csrftoken"]

    async def submit(self, url: str, data: dict | None = None, **kwargs) -> httpx.Response:
        form = {"csrftoken": await self.csrf(), **(data or {})}
        return await self.post(url, data=form, **kwargs)

    async def send_json(self, method: str, url: str, payload=None) -> httpx.Response:
        headers = {"x-csrftoken": await self.csrf()}
        return await self.request(method, url, json=payload, headers=headers)


async def logged_in(base_url: str, email: str, password: str) -> Browserish:
    client = Browserish(base_url)
    response = await client.submit("/login", {"email": email, "password": password})
    assert response.status_code == 303, f"login failed for {email}: {response.status_code} {response.text[:300]}"
    return client


def bearer(base_url: str, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
