"""A bench's own server process: the bench script re-run with `--serve PORT`, waited for on
/healthz, so the load generator and the server never share a process."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


class Server:
    def __init__(self, script: str, env: dict[str, str], log: Path, *, start_seconds: float = 60):
        from tests.support.server import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(log, "ab")
        self.process = subprocess.Popen([sys.executable, script, "--serve", str(self.port)], cwd=ROOT,
                                        env={**os.environ, **env, "GROUPIPT_BASE_URL": self.url},
                                        stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + start_seconds
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"bench server did not start in {start_seconds:.0f} s; see {log}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)
        self.log.close()
