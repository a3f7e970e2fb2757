"""The site as an installable web app (issue 20): the service worker's script at /sw.js.

It is served from the root, not from /static/, because a service worker's scope is the
folder it is served from and the pages it lets the browser install live at '/'. It only
ever answers requests for /static/ (static/sw.js says why). Its cache name carries a hash
of the static files' contents, so changed files reach every browser: the script changes, the
browser installs the new worker, which deletes the old cache. `no-cache` makes the browser
ask for the script each time it checks, instead of trusting a copy.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.platform.settings import PROJECT_ROOT

STATIC = PROJECT_ROOT / "static"
_known: tuple[tuple, str] | None = None  # (the files' sizes and times, their content hash)


def _static_files() -> list[Path]:
    return sorted(p for p in STATIC.rglob("*") if p.is_file() and p.name != "sw.js")


def static_version() -> str:
    """A hash of the static files' contents, read again only when a file's size or time changed."""
    global _known
    files = _static_files()
    signature = tuple((str(p.relative_to(STATIC)), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    if _known is None or _known[0] != signature:
        digest = hashlib.sha256()
        for path in files:
            digest.update(str(path.relative_to(STATIC)).encode() + b"\0" + path.read_bytes() + b"\0")
        _known = (signature, digest.hexdigest()[:16])
    return _known[1]


async def service_worker(request: Request) -> Response:
    script = (STATIC / "sw.js").read_text(encoding="utf-8").replace("__STATIC_VERSION__", static_version())
    return Response(script, media_type="text/javascript; charset=utf-8", headers={"Cache-Control": "no-cache"})


routes = [Route("/sw.js", service_worker, methods=["GET"])]
