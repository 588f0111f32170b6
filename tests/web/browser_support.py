"""A live Fondo server in a thread and Debian's chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import threading
from contextlib import contextmanager

import pytest
from werkzeug.serving import make_server

#: Flags Chromium needs on this closed-network, headless, root machine.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def chromium_path() -> str:
    """Path of Debian's chromium, or skip when it is not installed (``.ci/run`` installs it)."""
    path = os.environ.get("FONDO_TEST_CHROMIUM") or shutil.which("chromium")
    if not path:
        pytest.skip("Debian chromium is not installed (run through .ci/run)")
    return path


@contextmanager
def live_server(app):
    """Serve ``app`` on a free loopback port for the duration of the block."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@contextmanager
def browser_page(locale: str = "es-MX"):
    """A fresh Chromium page whose browser asks for ``locale``."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(locale=locale)
        finally:
            browser.close()
