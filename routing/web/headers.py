"""Security headers on every answer of the routing service (its pages and its API).

- Content-Security-Policy: scripts, styles and fonts only from this origin (the pages have no inline script), network
  calls only to this origin and to Rasa's socket.io (`rasa_origin`), images also over https (the bot may send
  pictures), and no framing: the console and the demo shop are never shown inside another site. Shops embed the chat
  widget as a script, not a frame, so their own page's policy applies to it (README, "Chatting with the bot").
- X-Content-Type-Options, Referrer-Policy; and Strict-Transport-Security in production, which runs behind HTTPS.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def websocket_origin(origin: str) -> str:
    """The ws:// or wss:// twin of an http(s) origin (socket.io upgrades to a websocket)."""
    return origin.replace("https://", "wss://", 1).replace("http://", "ws://", 1)


def content_security_policy(rasa_url: str) -> str:
    """The pages' policy; `rasa_url` is where browsers reach Rasa's socket.io."""
    parts = urlsplit(rasa_url)
    rasa = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    connect = " ".join(filter(None, ["'self'", rasa, websocket_origin(rasa) if rasa else ""]))
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
            f"connect-src {connect}; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'")


class SecurityHeaders:
    """ASGI middleware adding the headers above to every HTTP response."""

    def __init__(self, app: ASGIApp, rasa_url: str, production: bool) -> None:
        self.app = app
        headers = [(b"content-security-policy", content_security_policy(rasa_url).encode()),
                   (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                   (b"x-frame-options", b"DENY")]
        if production:
            headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        await self.app(scope, receive, with_headers)
