"""The at-scale topology, started here: Debian's nginx, configured by the repository's own
deploy/nginx/groupipt.conf.template (the file docker-compose.yml mounts), in front of two
`groupipt serve` processes on one PostgreSQL database and one Redis.

Through the one address a member signs in and fetches their calendar feed, a facilitator
signs in and runs the board, and the room display, on the other process, sees every event in
order. The processes believe forwarded headers only from the proxy.

Runs when GROUPIPT_TEST_POSTGRES_URL and GROUPIPT_TEST_REDIS_URL are set (CI sets both) and
nginx is installed (scripts/install-system-deps installs it).
"""
from __future__ import annotations

import asyncio
import os
import re
import shutil
import string
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.context import TortoiseContext

from server.platform.settings import tortoise_config
from tests.integration.test_board_support import BoardClient, make_board_world, present_all, turn_data
from tests.support.clients import logged_in
from tests.support.server import ROOT, LiveServer, free_port, migrated_postgres_database
from tests.support.world import PASSWORD

POSTGRES_URL = os.environ.get("GROUPIPT_TEST_POSTGRES_URL", "")
REDIS_URL = os.environ.get("GROUPIPT_TEST_REDIS_URL", "")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
TEMPLATE = ROOT / "deploy" / "nginx" / "groupipt.conf.template"

pytestmark = [
    pytest.mark.postgres, pytest.mark.redis,
    pytest.mark.skipif(not (POSTGRES_URL and REDIS_URL),
                       reason="needs GROUPIPT_TEST_POSTGRES_URL and GROUPIPT_TEST_REDIS_URL"),
]

# What nginx's own `nginx.conf` gives the official image, reduced to what a process run by
# the tests needs: everything about the platform is in the included file.
MAIN_CONF = """\
{user}worker_processes 1;
pid {dir}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/groupipt.conf;
}}
"""


def render_site_conf(replicas: list[str], listen: str) -> str:
    """The template with its variables filled in, as the nginx image's envsubst does: only
    GROUPIPT_* names are replaced, nginx's own $variables are left alone."""
    values = {"GROUPIPT_REPLICA_1": replicas[0], "GROUPIPT_REPLICA_2": replicas[1], "GROUPIPT_PROXY_LISTEN": listen}
    rendered = string.Template(TEMPLATE.read_text()).safe_substitute(values)
    assert "${GROUPIPT_" not in rendered, "the template names a variable the compose file does not set"
    return rendered


class Nginx:
    def __init__(self, directory: Path, replicas: list[str], port: int):
        self.dir = directory
        self.port = port
        self.url = f"http://127.0.0.1:{self.port}"
        (directory / "groupipt.conf").write_text(render_site_conf(replicas, f"127.0.0.1:{self.port}"))
        # Run as root (CI), nginx's workers would be `nobody`, who cannot enter pytest's 0700
        # temporary directories to buffer a large answer: they stay the test's own user.
        user = "user root;\n" if os.geteuid() == 0 else ""
        (directory / "nginx.conf").write_text(MAIN_CONF.format(dir=directory, user=user))
        self.log_path = directory / "nginx.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> Nginx:
        command = [NGINX, "-p", str(self.dir), "-e", str(self.dir / "error.log"), "-c", str(self.dir / "nginx.conf"),
                   "-g", "daemon off;"]
        check = subprocess.run([*command, "-t"], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        self.process = subprocess.Popen(command, stdout=open(self.log_path, "ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"nginx did not answer: {(self.dir / 'error.log').read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def access_log(self) -> str:
        return self.log_path.read_text()


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    if not os.path.exists(NGINX):
        pytest.fail("nginx is not installed; run `make test`, which installs it (scripts/install-system-deps)")
    database_url, drop = migrated_postgres_database(POSTGRES_URL)
    broadcast = f"{REDIS_URL}?prefix=gipt-proxy-{uuid.uuid4().hex[:8]}:"
    proxy_port = free_port()
    public = f"http://127.0.0.1:{proxy_port}"
    secret_key = "proxy-test-" + uuid.uuid4().hex  # one for every replica, as the compose file requires
    servers, proxy = [], None
    try:
        for name in ("one", "two"):
            servers.append(LiveServer(
                var_dir=tmp_path_factory.mktemp(f"proxied-{name}"), database_url=database_url,
                broadcast_url=broadcast,
                # Links and the Origin check use the public address; forwarded headers are
                # believed from the proxy only (nginx reaches the processes from 127.0.0.1).
                extra_env={"GROUPIPT_BASE_URL": public, "GROUPIPT_TRUSTED_PROXIES": "127.0.0.1",
                           "GROUPIPT_SECRET_KEY": secret_key},
            ).start())
        proxy = Nginx(tmp_path_factory.mktemp("nginx"), [f"127.0.0.1:{s.port}" for s in servers], proxy_port).start()
        yield database_url, servers, proxy
    finally:
        if proxy:
            proxy.stop()
        for server in servers:
            server.stop()
        drop()


def requests_seen(server: LiveServer, pattern: str) -> list[str]:
    """Access-log lines of one process whose request line matches `pattern`."""
    return [line for line in server.log().splitlines() if re.search(pattern, line)]


def serving(servers: list[LiveServer], pattern: str, before: list[int]) -> int:
    """Which process logged a new line matching `pattern` since `before` (counts per process)."""
    grown = [i for i, server in enumerate(servers) if len(requests_seen(server, pattern)) > before[i]]
    assert len(grown) == 1, f"expected one process to log {pattern!r}, saw {grown}"
    return grown[0]


async def test_one_address_two_processes(proxied):
    database_url, servers, proxy = proxied
    EXECUTOR_CACHE.clear()  # INSERT SQL is cached per connection name (see test_board_two_processes)
    try:
        async with TortoiseContext() as ctx:
            await ctx.init(config=tortoise_config(database_url))
            world = await make_board_world()
            await _run_through_the_proxy(world, servers, proxy)
    finally:
        EXECUTOR_CACHE.clear()


async def _run_through_the_proxy(world, servers: list[LiveServer], proxy: Nginx) -> None:
    # A member signs in through the proxy and subscribes to their calendar.
    member = await logged_in(proxy.url, world.emails["member"], PASSWORD)
    # A large answer (the API document, ~0.5 MB) passes the proxy's buffers and temp files whole.
    document = await member.get("/api/v1/openapi.json")
    assert document.status_code == 200 and document.json()["openapi"].startswith("3."), document.text[:200]
    created = await member.send_json("POST", "/api/v1/me/calendar-feed")
    assert created.status_code == 201, created.text
    feed_url = created.json()["url"]
    assert feed_url.startswith(proxy.url + "/feeds/"), feed_url  # the public address, not a process's
    async with httpx.AsyncClient(timeout=30) as calendar_client:
        feed = await calendar_client.get(feed_url)
        assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar"), feed.text[:200]
        assert "BEGIN:VEVENT" in feed.text
        again = await calendar_client.get(feed_url, headers={"If-None-Match": feed.headers["etag"]})
        assert again.status_code == 304
    # The proxy's log masks the feed's secret, as the app's does.
    token = feed_url.rsplit("/", 1)[1].removesuffix(".ics")
    assert token not in proxy.access_log() and "/feeds/***.ics" in proxy.access_log()

    # No sticky sessions: the facilitator's signed-in requests are answered by both processes.
    facilitator = await logged_in(proxy.url, world.emails["fac1"], PASSWORD)
    before = [len(requests_seen(s, r'"GET /cohorts/')) for s in servers]
    for _ in range(4):
        page = await facilitator.get(f"/cohorts/{world.cohort_id}")
        assert page.status_code == 200, page.text[:300]
    assert all(len(requests_seen(s, r'"GET /cohorts/')) > before[i] for i, s in enumerate(servers)), \
        "round robin should have sent the facilitator's pages to both processes"

    # The facilitator's board and the room display, on different processes, through the one address.
    ws_url = proxy.url.replace("http://", "ws://", 1)
    cookies = "; ".join(f"{name}={value}" for name, value in facilitator.cookies.items())
    session_headers = {"Cookie": cookies, "Origin": proxy.url}
    before = [len(requests_seen(s, r"view=facilitator")) for s in servers]
    board = await BoardClient.open(ws_url, world.meeting_id, None, view="facilitator",
                                   additional_headers=session_headers)
    board_process = serving(servers, r"view=facilitator", before)
    display = None
    for _ in range(6):  # round robin: the next socket or two land on the other process
        before = [len(requests_seen(s, r"view=display")) for s in servers]
        candidate = await BoardClient.open(ws_url, world.meeting_id, None, view="display",
                                           additional_headers=session_headers)
        if serving(servers, r"view=display", before) != board_process:
            display = candidate
            break
        await candidate.close()
    assert display is not None, "the display never landed on the other process"

    start = board.last_seq
    await present_all(board, world)
    await board.ok("add_turn", turn_data(world))
    await board.ok("add_note", {"text": "Through the proxy"})
    last = await board.ok("start_turn", {"turn": "1"})
    await board.wait_seq(last)
    await display.wait_seq(last)
    # The display, on the other process, saw the room's events in the facilitator's order,
    # and nothing for the facilitator's eyes only (attendance, notes).
    shown = [e for e in display.events if e["seq"] > start]
    assert shown and shown[-1]["seq"] == last
    by_seq = {e["seq"]: e["type"] for e in board.events}
    assert [(e["seq"], e["type"]) for e in shown] == [(seq, by_seq[seq]) for seq in sorted(by_seq)
                                                      if seq in {e["seq"] for e in shown}]
    assert "note_added" not in {e["type"] for e in shown}
    await board.close()
    await display.close()
    await member.aclose()
    await facilitator.aclose()


async def test_forwarded_headers_are_believed_from_the_proxy_only(proxied):
    _, servers, proxy = proxied
    spoofed = {"X-Forwarded-For": "203.0.113.7"}

    async def ask(url: str, source: str) -> str:
        """GET /healthz from `source` and return the client address the process logged."""
        marker = uuid.uuid4().hex
        transport = httpx.AsyncHTTPTransport(local_address=source)
        async with httpx.AsyncClient(transport=transport, timeout=10) as client:
            assert (await client.get(f"{url}/healthz?probe={marker}", headers=spoofed)).status_code == 200
        for _ in range(50):
            lines = [line for s in servers for line in requests_seen(s, marker)]
            if lines:
                return lines[0]
            await asyncio.sleep(0.1)
        raise AssertionError(f"no process logged the probe {marker}")

    # Through the proxy, from 127.0.0.5: nginx replaces the client's header with the address
    # it saw, and the process believes nginx.
    through = await ask(proxy.url, "127.0.0.5")
    assert "127.0.0.5:" in through and "203.0.113.7" not in through, through
    # Straight to a process from an address that is not the proxy: the header is ignored.
    direct = await ask(servers[0].url, "127.0.0.3")
    assert "127.0.0.3:" in direct and "203.0.113.7" not in direct, direct
