"""In Debian's chromium with its virtual authenticator (DevTools WebAuthn domain through
Playwright's CDP session): a facilitator without a second factor adds a passkey at their
first sign-in, then signs in with the passkey alone, and with password then passkey (issue 18).

WebAuthn wants a relying party ID that is a domain: "127.0.0.1" is none, so this test runs a
second server on the same database whose GROUPIPT_BASE_URL is http://localhost:PORT (a
secure context for Chromium, like 127.0.0.1)."""
from __future__ import annotations

import pytest

from models.accounts import FactorKind, SecondFactor, SignInSession
from tests.support.server import LiveServer
from tests.support.world import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


@pytest.fixture(scope="module")
def localhost_server(live_server, tmp_path_factory):
    server = LiveServer(var_dir=tmp_path_factory.mktemp("var-localhost"), database_url=live_server.database_url)
    server.url = f"http://localhost:{server.port}"
    server.env["GROUPIPT_BASE_URL"] = server.url
    # One clinic, two addresses: the same secret key, so both read the sealed TOTP secrets.
    server.env["GROUPIPT_SECRET_KEY"] = live_server.env["GROUPIPT_SECRET_KEY"]
    server.start()
    yield server
    server.stop()


async def _virtual_authenticator(context, page) -> tuple[object, str]:
    cdp = await context.new_cdp_session(page)
    await cdp.send("WebAuthn.enable")
    answer = await cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True,
    }})
    return cdp, answer["authenticatorId"]


async def _password(page, base: str, email: str) -> None:
    await page.goto(f"{base}/login")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()


async def test_passkey_added_at_first_sign_in_then_signs_in_alone_and_as_second_factor(
        browser, localhost_server, world, tmp_path):
    base = localhost_server.url
    person = await make_user("facilitator", "Petra Passkey", second_factor=False)
    context = await browser.new_context()
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    # Console errors, but the browser's own favicon request (there is no favicon).
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico") else None)
    cdp, authenticator = await _virtual_authenticator(context, page)

    # Staff without a factor are sent to set one up; a passkey will do.
    await _password(page, base, person.email)
    await page.wait_for_url("**/account/second-factor")
    await page.get_by_role("link", name="Use a passkey instead").click()
    await page.wait_for_url("**/account/passkeys/new")
    await page.get_by_label("Name for this passkey").fill("Work laptop")
    await page.screenshot(path=str(tmp_path / "add-passkey.png"), full_page=True)
    await page.get_by_role("button", name="Create a passkey").click()
    await page.get_by_role("heading", name="Your passkey is added").wait_for()
    codes = await page.get_by_role("list", name="Recovery codes").locator("li").all_inner_texts()
    assert len(codes) == 10
    (factor,) = await SecondFactor.filter(user=person, confirmed_at__isnull=False)
    assert (factor.kind, factor.name) == (FactorKind.PASSKEY, "Work laptop")
    stored = (await cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator}))["credentials"]
    assert len(stored) == 1 and stored[0]["isResidentCredential"]
    await page.get_by_role("link", name="Continue").click()
    await page.wait_for_url(f"{base}/")
    assert await page.get_by_role("link", name="Account").is_visible()

    # The passkey alone signs in (it verified the person: two factors in one).
    await page.get_by_role("button", name="Log out").click()
    await page.wait_for_url("**/login")
    await page.get_by_role("button", name="Sign in with a passkey").click()
    await page.wait_for_url(f"{base}/")
    assert await page.get_by_role("link", name="Account").is_visible()
    after_first = await SecondFactor.get(id=factor.id)
    assert after_first.sign_count > factor.sign_count and after_first.last_used_at is not None
    session = await SignInSession.filter(user=person, ended_at=None).order_by("-id").first()
    assert not session.factor_setup_required

    # Password, then the passkey in place of a code.
    await page.get_by_role("button", name="Log out").click()
    await page.wait_for_url("**/login")
    await _password(page, base, person.email)
    await page.wait_for_url("**/login/second-factor")
    await page.screenshot(path=str(tmp_path / "second-step.png"), full_page=True)
    await page.get_by_role("button", name="Use passkey").click()
    await page.wait_for_url(f"{base}/")
    assert (await SecondFactor.get(id=factor.id)).sign_count > after_first.sign_count

    # The account page lists it; renaming it right after signing in asks for nothing more.
    await page.goto(f"{base}/account")
    factors = page.get_by_role("list", name="Second factors")
    assert await factors.get_by_text("passkey, added").is_visible()
    await page.get_by_label("New name for Work laptop").fill("Clinic laptop")
    await page.get_by_role("button", name="Rename").click()
    await page.get_by_role("status").filter(has_text="Renamed: Clinic laptop").wait_for()
    assert (await SecondFactor.get(id=factor.id)).name == "Clinic laptop"
    await page.screenshot(path=str(tmp_path / "account.png"), full_page=True)
    assert not problems, problems
    await context.close()
