"""httpx clients that behave like a browser: CSRF cookie and token, session cookie."""
from __future__ import annotations

import re

import httpx

from tests.support import totp

TOKEN_INPUT = re.compile(r'name="csrftoken" value="([^"]+)"')
SECRET_INPUT = re.compile(r'data-secret="([A-Z2-7]+)"')


class Browserish(httpx.AsyncClient):
    """An AsyncClient that adds the CSRF token to form posts, as the site's own forms do."""

    def __init__(self, base_url: str, **kwargs):
        kwargs.setdefault("timeout", 30)
        headers = {"Origin": base_url, **kwargs.pop("headers", {})}
        super().__init__(base_url=base_url, headers=headers, **kwargs)

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


async def finish_sign_in(client: Browserish, response: httpx.Response, email: str,
                         totp_secret: str | None = None) -> httpx.Response:
    """Take the steps a person takes after the password: the code from their authenticator,
    or, for staff without one yet, setting one up (its secret is remembered for next time)."""
    location = response.headers.get("location", "")
    if response.status_code == 303 and location == "/login/second-factor":
        secret = totp_secret or await totp.secret_for(email)
        assert secret, f"{email} has a second factor whose secret this test does not know"
        totp.remember(email, secret)
        response = await client.submit("/login/second-factor", {"code": await totp.next_code(email, secret)})
        assert response.status_code == 303, f"second factor refused for {email}: {response.text[:300]}"
    elif response.status_code == 303 and location == "/account/second-factor":
        response = await set_up_authenticator(client, email)
    if response.status_code == 303 and response.headers.get("location") == "/login/attempts":
        response = await client.get("/login/attempts")  # read the notice of failed attempts
    return response


async def set_up_authenticator(client: Browserish, email: str) -> httpx.Response:
    page = await client.get("/account/second-factor")
    secret = SECRET_INPUT.search(page.text).group(1)
    totp.remember(email, secret)
    response = await client.submit("/account/second-factor", {"code": await totp.next_code(email, secret), "name": "test phone"})
    assert response.status_code == 200 and "recovery" in response.text.lower(), response.text[:300]
    return httpx.Response(303, headers={"location": "/"}, request=response.request)


async def logged_in(base_url: str, email: str, password: str, *, totp_secret: str | None = None) -> Browserish:
    client = Browserish(base_url)
    response = await client.submit("/login", {"email": email, "password": password})
    assert response.status_code == 303, f"login failed for {email}: {response.status_code} {response.text[:300]}"
    await finish_sign_in(client, response, email, totp_secret)
    return client


def bearer(base_url: str, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
