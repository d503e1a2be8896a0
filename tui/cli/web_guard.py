"""The web server behind `agentdeck serve`: textual-serve's, with a guard in front of every route.

textual-serve (aiohttp) serves a page, its static files and a websocket that drives one console
process per browser session; it checks nobody. What the guard adds, on every HTTP and websocket
request:

- Bound to a loopback address: the Host header must name a loopback host, so a page elsewhere
  that rebinds its DNS name to 127.0.0.1 cannot reach the console; and a websocket's Origin, when
  the browser sends one, must be this server, so another site open in the same browser cannot
  drive the console through the human's own machine (browsers let any page open a websocket
  to localhost). Otherwise it is trusted like a terminal on that machine.
- Bound anywhere else, additionally: the human's credential, the same token `agentdeck login`
  saved for this database (what the console acts with). A browser signs in once on /login (the
  token travels in a POST body, never in a URL or a log) and gets a random session cookie
  (HttpOnly, SameSite=Strict), kept in memory only; a script may send `Authorization: Bearer
  <token>` instead. Without either, every route answers 401. Only digests of the tokens are kept,
  compared in constant time.

Why the human's own token and not a new one printed at start-up: the console in the browser
acts as that human, so whoever drives it must be able to prove it with the credential the trust
model already gives them; a second secret would be one more thing to leak, rotate and explain.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import html
import ipaddress
import secrets
import signal
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web
from textual_serve.server import Server

from agentdeck.core import credentials, identity

if TYPE_CHECKING:
    from agentdeck.core import Deck

COOKIE = "agentdeck_session"
LOOPBACK_NAMES = ("localhost", "localhost.")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

LOGIN_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>agentdeck: sign in</title>
<style>body{{background:#1a1b26;color:#c0caf5;font:16px monospace;display:flex;
justify-content:center;margin-top:15vh}}input,button{{font:inherit;padding:6px}}</style></head>
<body><form method="post" action="/login"><h1>agentdeck</h1>
<p>This console acts as you. Paste your credential: the token in your
<code>~/.config/agentdeck/credentials.json</code> for this board.</p>
<p class="problem">{problem}</p>
<input type="password" name="token" size="50" autocomplete="off" autofocus>
<button type="submit">Sign in</button></form></body></html>
"""


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or a name) only ever reaches this machine."""
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def saved_token_digests(deck: Deck, board: str | None) -> frozenset[str]:
    """Digests of the human's saved credentials for this database (for `board` only, if given)."""
    saved = identity.saved_credentials(identity.database_id(deck.url, deck.path))
    return frozenset(
        credentials.digest(entry["token"])
        for key, entry in saved.items()
        if board is None or key == board
    )


def _hostname(netloc: str) -> str:
    return urllib.parse.urlsplit(f"//{netloc}").hostname or ""


class ConsoleServer(Server):
    """textual-serve's `Server`, guarded; `digests` None means loopback-only trust."""

    def __init__(
        self,
        command: str,
        *,
        host: str,
        port: int,
        title: str,
        digests: frozenset[str] | None,
    ) -> None:
        super().__init__(command, host=host, port=port, title=title)
        self.digests = digests
        self.sessions: set[str] = set()

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self._guard)
        app.router.add_get("/login", self._login_page)
        app.router.add_post("/login", self._login)
        return app

    async def on_startup(self, app: web.Application) -> None:
        """Quiet: the address is announced once the server listens (`serve`)."""

    def _announce(self, *_: object) -> None:
        where = f"http://{self.host}:{self.port}/"
        how = "sign in with your credential" if self.digests is not None else "this machine only"
        print(f"agentdeck console at {where} ({how}); Ctrl-C stops", flush=True)

    def serve(self, debug: bool = False) -> None:
        """As textual-serve's `serve`, but saying where the console is only once the socket
        listens: aiohttp calls `print` after binding, while startup hooks run before it, so a
        browser (or a test) told the address earlier could find nothing there yet."""
        self.debug = debug
        self.initialize_logging()
        try:
            loop = asyncio.get_event_loop()
        except Exception:
            loop = asyncio.new_event_loop()
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signal.SIGINT, self.request_exit)
            loop.add_signal_handler(signal.SIGTERM, self.request_exit)
        web.run_app(
            self._make_app(),
            host=self.host,
            port=self.port,
            handle_signals=False,
            loop=loop,
            print=self._announce,
        )

    async def handle_index(self, request: web.Request) -> Any:
        """The page, with its websocket URL built from the address the browser used (textual-
        serve would use the bind address, which 0.0.0.0 makes useless to a browser)."""
        self.public_url = f"{request.scheme}://{request.host}"
        return await super().handle_index(request)

    # -- the guard ---------------------------------------------------------------------------

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.digests is None and not is_loopback(_hostname(request.host)):
            return web.Response(status=403, text="this console answers on localhost only\n")
        if request.path == "/ws":
            origin = request.headers.get("Origin")
            if origin is not None and urllib.parse.urlsplit(origin).netloc != request.host:
                return web.Response(status=403, text="the page is from another site\n")
        if self.digests is None or request.path == "/login" or self._signed_in(request):
            return await handler(request)
        if request.path == "/" and request.method == "GET":
            return self._login_response(401, "")
        return web.Response(status=401, text="sign in at /login with your credential\n")

    def _signed_in(self, request: web.Request) -> bool:
        session = request.cookies.get(COOKIE, "")
        if session and any(hmac.compare_digest(session, known) for known in self.sessions):
            return True
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and self._is_credential(token)

    def _is_credential(self, token: str) -> bool:
        given = credentials.digest(token)
        return any(hmac.compare_digest(given, known) for known in self.digests or ())

    # -- signing in --------------------------------------------------------------------------

    def _login_response(self, status: int, problem: str) -> web.Response:
        page = LOGIN_PAGE.format(problem=html.escape(problem))
        return web.Response(status=status, text=page, content_type="text/html")

    async def _login_page(self, request: web.Request) -> web.StreamResponse:
        if self.digests is None or self._signed_in(request):
            raise web.HTTPSeeOther("/")
        return self._login_response(200, "")

    async def _login(self, request: web.Request) -> web.StreamResponse:
        if self.digests is None:
            raise web.HTTPSeeOther("/")
        form = await request.post()
        token = form.get("token")
        if not isinstance(token, str) or not self._is_credential(token):
            return self._login_response(401, "That is not your credential for this database.")
        session = secrets.token_urlsafe(32)
        self.sessions.add(session)
        answer = web.HTTPSeeOther("/")
        answer.set_cookie(
            COOKIE, session, httponly=True, samesite="Strict", secure=request.secure, path="/"
        )
        raise answer
