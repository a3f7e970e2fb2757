"""Full-page screenshots of every main page, for each role, at a desktop and a phone width.

Not part of the test suite: a tool for looking at the platform before and after a visual
change (issue 20). It loads the demo clinic into a fresh SQLite database, serves it, signs
in as each demo role through the real login form (with the authenticator code for staff),
and saves `<role>--<page>--<width>[-dark].png` under OUTDIR, plus `report.txt` listing
pages that scroll sideways and text whose contrast is under WCAG AA.

    python scripts/screenshots.py OUTDIR [--root /work/main] [--dark] [--only home,people] [--widths 1280,390]

--root serves another checkout's code (e.g. the main branch, for the "before" set).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import pyotp
from playwright.async_api import async_playwright

HERE = Path(__file__).resolve().parents[1]

# (role, name, path): a path with {placeholders} is filled from the demo's JSON or from the
# first link on an earlier page (see `discover`).
PAGES = [
    ("anon", "login", "/login"),
    ("coordinator", "home", "/"),
    ("coordinator", "cohort", "/cohorts/1"),
    ("coordinator", "cohort-new", "/cohorts/new"),
    ("coordinator", "enrollment", "/cohorts/1/enrollment"),
    ("coordinator", "enrollment-enrolling", "/cohorts/2/enrollment"),
    ("coordinator", "enrollment-detail", "{enrollment}"),
    ("coordinator", "enrollment-import", "/cohorts/2/enrollment/import"),
    ("coordinator", "schedule-meeting", "/meetings/{meeting}"),
    ("coordinator", "people", "/people"),
    ("coordinator", "person", "{person}"),
    ("coordinator", "safety", "/safety"),
    ("coordinator", "safety-settings", "/clinic/safety"),
    ("coordinator", "protocols", "/templates"),
    ("coordinator", "protocol", "{template}"),
    ("coordinator", "protocol-new", "/templates/new"),
    ("coordinator", "online", "/cohorts/1/online"),
    ("coordinator", "calendar-feeds", "/calendar-feeds"),
    ("coordinator", "outbox", "/outbox"),
    ("coordinator", "audit", "/audit"),
    ("coordinator", "supervision", "/supervision"),
    ("coordinator", "adherence", "/supervision/adherence"),
    ("coordinator", "programme", "/programme"),
    ("coordinator", "closure-overview", "/cohorts/3/summaries"),
    ("coordinator", "closure-summary", "/summaries/1"),
    ("coordinator", "outcomes", "/cohorts/3/outcomes"),
    ("coordinator", "measures", "/cohorts/1/measures"),
    ("coordinator", "account", "/account"),
    ("facilitator", "home", "/"),
    ("facilitator", "cohort", "/cohorts/1"),
    ("facilitator", "intake", "{enrollment}/intake"),
    ("facilitator", "member-measures", "{member_measures}"),
    ("facilitator", "checklist", "/meetings/{meeting}/checklist"),
    ("facilitator", "board", "/boards/{meeting}"),
    ("facilitator", "closure-editor", "/summaries/4/edit"),
    ("facilitator", "safety", "/safety"),
    ("facilitator", "disclosure", "{enrollment}/safety/new"),
    ("facilitator", "account", "/account"),
    ("supervisor", "home", "/"),
    ("supervisor", "supervision", "/supervision"),
    ("supervisor", "signoff", "/supervision/sign-off"),
    ("supervisor", "supervision-new", "/supervision/meetings/new"),
    ("supervisor", "closure-summary", "/summaries/3"),
    ("supervisor", "programme", "/programme"),
    ("member", "portal", "/portal"),
    ("member", "portal-reminders", "/portal/reminders"),
    ("member", "measure", "/portal/measures/phq9"),
    ("member", "account", "/account"),
    ("member", "board-display", "/boards/{meeting}/display"),
    ("finished", "portal-summaries", "/portal/summaries"),
    ("finished", "closure-summary", "/summaries/1"),
]

# Placeholders read from a page's first link whose path matches: name -> (role, page, regex).
DISCOVER = {
    "enrollment": ("coordinator", "/cohorts/1/enrollment", r"^/enrollments/\d+$"),
    "person": ("coordinator", "/people", r"^/people/\d+$"),
    "template": ("coordinator", "/templates", r"^/templates/\d+$"),
    "member_measures": ("facilitator", "/cohorts/1/measures", r"^/enrollments/\d+/measures$"),
}

# For each visible text node's element: its colour against the nearest opaque background.
CONTRAST_JS = """() => {
  const parse = c => { const m = c.match(/[\\d.]+/g); return m ? m.map(Number) : [0,0,0,0]; };
  const lum = ([r,g,b]) => { const f = v => { v /= 255; return v <= .03928 ? v/12.92 : ((v+.055)/1.055)**2.4; };
    return .2126*f(r) + .7152*f(g) + .0722*f(b); };
  const bg = el => { for (; el; el = el.parentElement) { const c = parse(getComputedStyle(el).backgroundColor);
    if (c.length < 4 || c[3] > .9) return c; } return [255,255,255]; };
  const out = [], seen = new Set();
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const el = walk.currentNode.parentElement, text = walk.currentNode.textContent.trim();
    if (!text || seen.has(el)) continue; seen.add(el);
    const s = getComputedStyle(el), r = el.getBoundingClientRect();
    if (s.visibility === 'hidden' || r.width < 2 || r.height < 2 || el.closest('svg,[hidden],.visually-hidden,option')) continue;
    const fg = parse(s.color), b = bg(el);
    if (fg.length > 3 && fg[3] < .9) continue;  // translucent text: skip, not guess
    const [l1, l2] = [lum(fg), lum(b)].sort((a, c) => c - a);
    const ratio = (l1 + .05) / (l2 + .05);
    const large = parseFloat(s.fontSize) >= 24 || (parseFloat(s.fontSize) >= 18.66 && Number(s.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) out.push(`${ratio.toFixed(2)} ${el.tagName.toLowerCase()}.${el.className} "${text.slice(0, 40)}" ${s.color} on rgb(${b.slice(0,3)})`);
  }
  return out.slice(0, 10);
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(root: Path, var_dir: Path) -> tuple[subprocess.Popen, str, dict]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "GROUPIPT_VAR_DIR": str(var_dir), "GROUPIPT_DATABASE_URL": f"sqlite://{var_dir / 'demo.sqlite3'}",
           "GROUPIPT_BASE_URL": url, "GROUPIPT_PASSWORD_PROFILE": "cheapest", "GROUPIPT_LOGIN_ATTEMPTS": "50",
           "GROUPIPT_SECRET_KEY": "screenshots-" + uuid.uuid4().hex, "GROUPIPT_REMINDER_HOURS": "none",
           "PYTHONPATH": str(root)}
    demo = json.loads(subprocess.run([sys.executable, "-m", "server.cli", "demo", "--json"], cwd=root, env=env,
                                     check=True, capture_output=True, text=True).stdout)
    log = open(var_dir / "server.log", "ab")
    proc = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return proc, url, demo
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"server did not start:\n{(var_dir / 'server.log').read_text()[-3000:]}")


def logins(demo: dict) -> dict[str, dict]:
    users = demo["users"]
    return {
        "coordinator": next(u for u in users if u["role"] == "coordinator"),
        "facilitator": next(u for u in users if u["role"] == "facilitator"),
        "supervisor": demo["supervisor"],
        "member": next(u for u in users if u["role"] == "member"),
        "finished": demo["finished_members"][0],
    }


async def sign_in(browser, url: str, person: dict | None):
    """A signed-in session's storage state (None for the anonymous role)."""
    if person is None:
        return None
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{url}/login")
    await page.get_by_label("E-mail").fill(person["email"])
    await page.get_by_label("Password").fill(person["password"])
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_load_state("networkidle")
    if page.url.split("?")[0].endswith("/login/second-factor"):
        await page.get_by_label("Code").fill(pyotp.TOTP(person["totp_secret"]).now())
        await page.get_by_role("button", name="Continue").click()
        await page.wait_for_load_state("networkidle")
    state = await context.storage_state()
    await context.close()
    return state


async def run(out: Path, root: Path, dark: bool, only: set[str], widths: list[int]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    var_dir = Path(tempfile.mkdtemp(prefix="gipt-shots-"))
    proc, url, demo = start_server(root, var_dir)
    report: list[str] = []
    values = {"meeting": str(demo["boards"][0]["meeting_id"])}
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                               args=["--no-sandbox", "--disable-gpu"])
            people = logins(demo)
            states = {role: await sign_in(browser, url, people.get(role)) for role in {*people, "anon"}}
            for name, (role, path, selector) in DISCOVER.items():
                context = await browser.new_context(storage_state=states[role])
                page = await context.new_page()
                await page.goto(url + path)
                values[name] = await page.evaluate(
                    "re => [...document.links].map(a => a.getAttribute('href')).find(h => new RegExp(re).test(h))",
                    selector) or path
                await context.close()
            for width in widths:
                viewport = {"width": width, "height": 844 if width < 600 else 800}
                for role in dict.fromkeys(r for r, _, _ in PAGES):
                    context = await browser.new_context(storage_state=states[role], viewport=viewport,
                                                        color_scheme="dark" if dark else "light")
                    page = await context.new_page()
                    for page_role, name, path in PAGES:
                        if page_role != role or (only and name not in only):
                            continue
                        target = path.format(**values)
                        response = await page.goto(url + target)
                        await page.wait_for_load_state("networkidle")
                        label = f"{role}--{name}--{width}{'-dark' if dark else ''}"
                        await page.screenshot(path=str(out / f"{label}.png"), full_page=True)
                        scroll, inner = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
                        notes = [f"HTTP {response.status}"] if response and response.status >= 400 else []
                        if scroll > inner:
                            notes.append(f"scrolls sideways: {scroll} > {inner}")
                        notes += [f"low contrast {c}" for c in await page.evaluate(CONTRAST_JS)]
                        report.append(f"{label} {target}" + "".join(f"\n    {n}" for n in notes))
                    await context.close()
            await browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        shutil.rmtree(var_dir, ignore_errors=True)
    (out / f"report{'-dark' if dark else ''}.txt").write_text("\n".join(report) + "\n")
    print(f"{len(report)} screenshots in {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--root", type=Path, default=HERE, help="checkout whose code to serve")
    parser.add_argument("--dark", action="store_true", help="emulate prefers-color-scheme: dark")
    parser.add_argument("--only", default="", help="comma-separated page names")
    parser.add_argument("--widths", default="1280,390", help="comma-separated viewport widths in CSS px")
    args = parser.parse_args()
    asyncio.run(run(args.outdir, args.root.resolve(), args.dark, {n for n in args.only.split(",") if n},
                    [int(w) for w in args.widths.split(",")]))


if __name__ == "__main__":
    main()
