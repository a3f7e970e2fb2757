"""The site is installable (issue 20): a web app manifest linked from every page, and a
service worker served from the root that keeps only static files (what it answers is
checked by tests/js/board/sw.test.mjs on the same script)."""
from __future__ import annotations

import json
import re

import httpx

from server.platform.settings import PROJECT_ROOT


async def test_the_manifest_and_service_worker_are_served_as_an_installable_site(live_server):
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        sw = await client.get("/sw.js")
        assert sw.status_code == 200
        assert sw.headers["content-type"].startswith("text/javascript")
        assert sw.headers["cache-control"] == "no-cache"
        version = re.search(r'const VERSION = "([0-9a-f]{16})";', sw.text).group(1)
        source = (PROJECT_ROOT / "static" / "sw.js").read_text(encoding="utf-8")
        assert sw.text == source.replace("__STATIC_VERSION__", version)  # the script the JS test checks
        assert (await client.get("/sw.js")).text == sw.text  # stable while the static files are

        manifest = await client.get("/static/manifest.webmanifest")
        assert manifest.status_code == 200
        assert manifest.headers["content-type"].startswith("application/manifest+json")
        body = json.loads(manifest.text)
        assert (body["start_url"], body["display"], body["short_name"]) == ("/", "standalone", "Group IPT")
        assert body["name"] and body["theme_color"] and body["background_color"]
        for icon in body["icons"]:
            answer = await client.get(icon["src"])
            assert answer.status_code == 200 and answer.headers["content-type"] == icon["type"], icon
        assert {"192x192", "512x512"} <= {icon["sizes"] for icon in body["icons"] if icon["type"] == "image/png"}

        page = await client.get("/login")
        assert '<link rel="manifest" href="/static/manifest.webmanifest">' in page.text
        assert '<script src="/static/pwa.js" defer></script>' in page.text
        policy = page.headers["content-security-policy"]
        assert "worker-src 'self'" in policy and "manifest-src 'self'" in policy
        assert page.headers["cache-control"] == "no-store"  # pages are never kept, by anyone
