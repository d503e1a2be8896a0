"""`agentdeck serve`: the console in a real headless Chromium, and the guard in front of it.

The server runs as its own process (in its own process group, ended as a group: it starts one
console process per browser session). The browser is Debian's `chromium`, driven over the
DevTools protocol with aiohttp's websocket client (textual-serve brings aiohttp); WebGL is off,
so xterm.js draws with its DOM renderer and the page's text is the console's screen.
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import AGENTDECK, sqlite_only

CHROMIUM = os.environ.get("AGENTDECK_TEST_CHROMIUM") or shutil.which("chromium")
Serve = Callable[..., int]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def serve(web: str) -> Iterator[Serve]:
    """Start `agentdeck serve` on a free port; returns the port once it listens."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str, env: dict[str, str] | None = None) -> int:
        port = free_port()
        process = subprocess.Popen(
            [str(AGENTDECK), "serve", "--port", str(port), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "AGENTDECK_DB": web, **(env or {})},
            start_new_session=True,
        )
        started.append(process)
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "agentdeck console at" in line, line + process.stdout.read()
        return port

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def request(
    port: int, method: str, path: str, *, headers: dict[str, str] | None = None, body: str = ""
) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(method, path, body=body or None, headers=headers or {})
    answer = connection.getresponse()
    answer.read()
    return answer


WS_UPGRADE = {
    "Connection": "Upgrade",
    "Upgrade": "websocket",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
}


@sqlite_only
def test_bound_elsewhere_every_request_needs_the_humans_credential(
    serve: Serve, tokens: dict[str, str]
) -> None:
    port = serve("--host", "0.0.0.0")
    for path in ("/", "/ws", "/static/js/textual.js", "/download/x"):
        assert request(port, "GET", path).status == 401, path
    assert request(port, "GET", "/ws", headers=WS_UPGRADE).status == 401
    # Another human's token is a credential of the board, but not the one this console acts with.
    for wrong in ("adk_wrong", tokens["bob"], tokens["coder"]):
        refused = request(port, "GET", "/", headers={"Authorization": f"Bearer {wrong}"})
        assert refused.status == 401
        form = f"token={wrong}"
        login = {"Content-Type": "application/x-www-form-urlencoded"}
        assert request(port, "POST", "/login", headers=login, body=form).status == 401

    bearer = {"Authorization": f"Bearer {tokens['ann']}"}
    assert request(port, "GET", "/", headers=bearer).status == 200
    signed_in = request(
        port,
        "POST",
        "/login",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=f"token={tokens['ann']}",
    )
    assert signed_in.status == 303
    cookie = signed_in.getheader("Set-Cookie") or ""
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert tokens["ann"] not in cookie
    session = cookie.split(";")[0]
    assert request(port, "GET", "/", headers={"Cookie": session}).status == 200
    assert request(port, "GET", "/", headers={"Cookie": "agentdeck_session=guess"}).status == 401


@sqlite_only
def test_on_loopback_other_sites_cannot_reach_it(serve: Serve) -> None:
    port = serve()
    assert request(port, "GET", "/").status == 200
    assert request(port, "GET", "/", headers={"Host": f"rebound.example:{port}"}).status == 403
    other_site = {**WS_UPGRADE, "Origin": "https://evil.example"}
    assert request(port, "GET", "/ws", headers=other_site).status == 403


@sqlite_only
def test_bound_elsewhere_without_a_saved_credential_it_refuses_to_start(
    web: str, tmp_path: Path
) -> None:
    ran = subprocess.run(
        [str(AGENTDECK), "serve", "--host", "0.0.0.0", "--port", str(free_port())],
        capture_output=True,
        text=True,
        env={**os.environ, "AGENTDECK_DB": web, "XDG_CONFIG_HOME": str(tmp_path / "nobody")},
        timeout=60,
    )
    assert ran.returncode == 1
    assert ran.stderr.count("\n") == 1 and "needs your credential" in ran.stderr


# -- the browser -----------------------------------------------------------------------------


def png_colors(data: bytes) -> int:
    """How many distinct colours an 8-bit RGB or RGBA PNG holds (a blank page holds one)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, idat, width, height, kind = 8, b"", 0, 0, 0
    while at < len(data):
        (length,), name = struct.unpack(">I", data[at : at + 4]), data[at + 4 : at + 8]
        chunk = data[at + 8 : at + 8 + length]
        if name == b"IHDR":
            width, height, depth, kind = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and kind in (2, 6)
        elif name == b"IDAT":
            idat += chunk
        at += 12 + length
    bpp = 3 if kind == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    previous, colors = bytearray(stride), set()
    for row in range(height):
        kind_of_filter = raw[row * (stride + 1)]
        line = bytearray(raw[row * (stride + 1) + 1 : (row + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = previous[i], previous[i - bpp] if i >= bpp else 0
            if kind_of_filter == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind_of_filter == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind_of_filter == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind_of_filter == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 0xFF
        if row % 4 == 0:
            colors.update(bytes(line[i : i + 3]) for i in range(0, stride, bpp * 4))
        previous = line
    return len(colors)


async def browse(url: str, wanted: str, timeout: float = 60) -> tuple[str, bytes]:
    """Open `url` in headless Chromium; wait until the page's text holds `wanted`; return the
    text and a PNG screenshot."""
    import aiohttp

    profile = tempfile.mkdtemp(prefix="agentdeck-chromium-")
    browser = subprocess.Popen(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-3d-apis",  # no WebGL: xterm.js falls back to DOM rows, readable text
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "--window-size=1280,800",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert browser.stderr is not None
        found = None
        for line in browser.stderr:
            found = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
            if found:
                break
        assert found, "Chromium did not start its DevTools endpoint"
        listing = urllib.request.urlopen(f"http://127.0.0.1:{found.group(1)}/json/list", timeout=10)
        pages = [p for p in json.load(listing) if p["type"] == "page"]
        async with (
            aiohttp.ClientSession() as client,
            client.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0) as ws,
        ):
            ids = iter(range(1, 1_000_000))

            async def call(method: str, **params: object) -> dict[str, object]:
                number = next(ids)
                await ws.send_json({"id": number, "method": method, "params": params})
                async for message in ws:
                    answer = json.loads(message.data)
                    if answer.get("id") == number:
                        assert "error" not in answer, answer
                        return dict(answer["result"])
                raise AssertionError("the DevTools connection closed")

            await call("Page.navigate", url=url)
            deadline, text = time.monotonic() + timeout, ""
            while wanted not in text:
                assert time.monotonic() < deadline, f"{wanted!r} never showed; page: {text!r}"
                await asyncio.sleep(0.2)
                result = await call(
                    "Runtime.evaluate", expression="document.body.innerText", returnByValue=True
                )
                text = str(dict(result["result"]).get("value", ""))  # type: ignore[arg-type]
            shot = await call("Page.captureScreenshot", format="png")
            return text, base64.b64decode(str(shot["data"]))
    finally:
        browser.terminate()
        browser.wait(timeout=15)
        shutil.rmtree(profile, ignore_errors=True)


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium here (.ci/run installs Debian's)")
def test_the_console_renders_in_headless_chromium(serve: Serve, tmp_path: Path) -> None:
    port = serve()
    # Wait for a card, not the header: the columns' pages are read after the header's counts.
    text, png = asyncio.run(browse(f"http://127.0.0.1:{port}/", "Build the API"))
    assert "Build the API" in text and "Needs human" in text
    (tmp_path / "browser.png").write_bytes(png)
    assert png_colors(png) > 8, "the screenshot is blank"
