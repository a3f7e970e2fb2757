"""Issue 20, "through a lost connection", in Debian's chromium: the network goes, the
facilitator marks three members present, reloads the page while the board is still
unreachable, the network comes back, and all three are applied exactly once, even though the
first connection back is cut again just after an ack. Signing out forgets what was kept.

The board's socket runs through Playwright's WebSocket routing, a cable the test can pull:
`set_offline` cuts everything (and fires the browser's `offline` event), and the cable keeps
the board's socket down while pages still load, so that the page can be reloaded and still
show what waits."""
from __future__ import annotations

import asyncio
import json
import re

import pytest
from playwright.async_api import expect

from models.board import BoardEvent
from tests.integration.test_board_support import make_board_world
from tests.support.browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


class Cable:
    """Between the page and the board's socket: down, up, or up but cut once after an ack."""

    def __init__(self):
        self.up = True
        self.cut_after_ack = False
        self.cuts = 0
        self.duplicates = 0
        self._tasks: set[asyncio.Task] = set()

    def _later(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def route(self, ws) -> None:
        if not self.up:
            self._later(ws.close(code=4003, reason="no route to the server"))
            return
        server = ws.connect_to_server()

        def to_page(message) -> None:
            frame = json.loads(message)
            if frame.get("type") == "ack" and self.cut_after_ack:
                self.cut_after_ack = False  # committed, but the answer is lost with the connection
                self.cuts += 1
                self._later(ws.close(code=4003, reason="cut"))
                self._later(server.close())
                return
            if frame.get("type") == "ack" and frame.get("duplicate"):
                self.duplicates += 1
            ws.send(message)

        server.on_message(to_page)


def _marks(world):
    """The attendance marks facilitators made on this board (not those it opened with)."""
    return BoardEvent.filter(board__meeting_id=world.meeting_id, type="attendance_marked", client_cmd_id__isnull=False)


async def test_three_commands_issued_offline_are_applied_once_after_a_reload(live_server, db, browser):
    world = await make_board_world()
    cable = Cable()
    context = await browser.new_context(viewport={"width": 1024, "height": 768})
    await context.route_web_socket(re.compile(r"/boards/\d+/ws"), cable.route)
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        await log_in(page, live_server.url, world.emails["fac1"])
        await page.goto(f"{live_server.url}/boards/{world.meeting_id}")
        status, outbox = page.locator("#conn-status"), page.locator("#outbox")
        await expect(status).to_have_text("Live", timeout=15000)
        await expect(outbox).to_be_hidden()
        # Installable: the service worker runs at '/' and has kept static files only.
        scope = await page.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)")
        assert scope == f"{live_server.url}/"
        await page.reload()  # the first page's files were fetched before the worker ran
        await expect(status).to_have_text("Live", timeout=15000)
        cached = await page.evaluate("""async () => { const urls = [];
            for (const name of await caches.keys()) for (const r of await (await caches.open(name)).keys()) urls.push(r.url);
            return urls; }""")
        assert f"{live_server.url}/static/board/outbox.js" in cached
        assert all(url.startswith(f"{live_server.url}/static/") for url in cached), cached

        # The network goes: the page says so, and keeps what the facilitator does.
        await context.set_offline(True)
        await expect(status).to_contain_text("Reconnecting", timeout=15000)
        for member in world.members:
            await page.locator(f"#att-{member}").get_by_role("button", name="Present").click()
        await expect(page.locator("#outbox-title")).to_have_text("Waiting to send (3)")
        await expect(page.locator("#outbox-list li")).to_have_text(
            ["Attendance: Maria Lopez, Present", "Attendance: Tom Hill, Present", "Attendance: Sara Kim, Present"])
        await expect(page.locator("#outbox-how")).to_contain_text("Not connected")
        key = f"groupipt:outbox:{world.meeting_id}"
        kept = json.loads(await page.evaluate(f"sessionStorage.getItem('{key}')"))
        ids = [item["id"] for item in kept["items"]]
        assert len(set(ids)) == 3

        # Pages load again but the board's socket still does not: a reload loses nothing.
        cable.up = False
        await context.set_offline(False)
        await page.reload()
        await expect(page.locator("#outbox-title")).to_have_text("Waiting to send (3)")
        await expect(status).to_contain_text("Reconnecting", timeout=15000)
        assert await page.evaluate("Object.keys(window.groupiptBoard.pending)") == ids  # same ids, same order
        assert await _marks(world).count() == 0

        # The socket comes back; the first connection is cut again just after an ack.
        cable.cut_after_ack = True
        cable.up = True
        await expect(status).to_have_text("Live", timeout=20000)
        await expect(outbox).to_be_hidden(timeout=20000)
        for member in world.members:
            await expect(page.locator(f"#att-{member}")).to_have_attribute("data-status", "present")
        assert cable.cuts == 1 and cable.duplicates >= 1  # a retry was answered with its first ack
        assert await page.evaluate(f"sessionStorage.getItem('{key}')") is None
        marks = await _marks(world).order_by("seq")
        assert [event.client_cmd_id for event in marks] == ids  # each exactly once, in the order issued
        assert sorted(event.data["member"] for event in marks) == sorted(world.members)
        # Signing out forgets whatever a board of this tab still kept.
        await page.evaluate(f"sessionStorage.setItem('{key}', JSON.stringify({{user: 'x', items: [], refused: []}}))")
        await page.get_by_role("button", name="Log out", exact=True).click()
        await page.wait_for_url("**/login")
        assert await page.evaluate(f"sessionStorage.getItem('{key}')") is None
        assert not problems, problems
    finally:
        await context.close()
