"""PDF documents rendered from our own HTML with WeasyPrint.

The renderer is allowed to read nothing but inline `data:` URLs: the stylesheet is handed
to it directly, so a summary's text can never make the server fetch a file or a URL.
Rendering takes tens to hundreds of milliseconds of CPU, so it runs in a worker thread
and never stalls a live board on the same process.
"""
from __future__ import annotations

from functools import lru_cache

from starlette.concurrency import run_in_threadpool
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher

from server.platform.settings import PROJECT_ROOT

PRINT_CSS = PROJECT_ROOT / "static" / "print.css"


class _DataOnlyFetcher(URLFetcher):
    def __init__(self) -> None:
        super().__init__(allowed_protocols={"data"}, allow_redirects=False, timeout=1)


@lru_cache(maxsize=1)
def _stylesheet() -> CSS:
    return CSS(string=PRINT_CSS.read_text(encoding="utf-8"), url_fetcher=_DataOnlyFetcher())


def html_to_pdf(html: str) -> bytes:
    document = HTML(string=html, base_url=None, url_fetcher=_DataOnlyFetcher())
    return document.write_pdf(stylesheets=[_stylesheet()], pdf_identifier=None, uncompressed_pdf=False)


async def render_pdf(html: str) -> bytes:
    return await run_in_threadpool(html_to_pdf, html)
