"""The HTTP guard in front of MLServer's REST app: who may call, how much, and how slowly.

A plain ASGI middleware (no MLServer import), outermost, so a refused request costs no parsing:

- ``Host`` must name the server (the bound address, localhost, or a name allowed with
  ``--allow-host``): a page whose DNS name was rebound to 127.0.0.1 is refused;
- a browser's ``Origin`` must be the server itself or allowed in ``cors_settings``: a cross-site
  form post (``text/plain``, no preflight) never reaches a handler;
- the repository API (``/v2/repository/...``: load, unload, index) is off, or needs the token;
- a JSON inference request's shapes are lists of integers (FastAPI would read ``2.0`` or
  ``"2"`` as 2);
- the body is read within ``timeout_s`` and holds at most ``max_bytes``, before and after gzip
  decoding (413 with a message, 408 on time-out), so a short body or a gzip bomb costs nothing.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
import time
import zlib
from dataclasses import dataclass, field

import orjson

REPOSITORY = "/v2/repository/"
INFER = re.compile(r"/v2/models/[^/]+(/versions/[^/]+)?/(infer|generate)(_stream)?")


@dataclass(frozen=True)
class Policy:
    """What the guard lets through; ``"*"`` in ``hosts`` or ``origins`` allows any."""

    hosts: frozenset[str]
    origins: frozenset[str] = frozenset()
    origin_pattern: str | None = None
    token: str | None = field(default=None, repr=False)
    max_bytes: int = 16 * 2**20
    timeout_s: float = 10.0


class Refusal(Exception):
    """An HTTP error answer: its status and the message the client reads."""

    def __init__(self, status: int, message: str, headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers


def host_name(host: str) -> str:
    """The name in a ``Host`` header, without its port: ``[::1]:8080`` → ``::1``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def check_host(policy: Policy, host: str | None) -> None:
    if "*" in policy.hosts:
        return
    if host is None or host_name(host) not in policy.hosts:
        raise Refusal(400, f"Host {host!r} is not a name this server answers to; start it with --allow-host NAME "
                           "to serve a name (DNS rebinding protection)")


def check_origin(policy: Policy, origin: str | None, host: str | None) -> None:
    """A browser's cross-origin request is refused unless ``cors_settings`` allows its origin."""
    if origin is None or "*" in policy.origins or origin in policy.origins or origin in (f"http://{host}",
                                                                                           f"https://{host}"):
        return
    if policy.origin_pattern is not None and re.fullmatch(policy.origin_pattern, origin):
        return
    raise Refusal(403, f"cross-origin requests from {origin} are refused; allow the origin in settings.json's "
                       "cors_settings.allow_origins")


def check_repository(policy: Policy, path: str, authorization: str | None) -> None:
    """The repository API (load, unload, index) is off without a token, and needs the token with one."""
    if not path.startswith(REPOSITORY):
        return
    if policy.token is None:
        raise Refusal(403, "the model repository API (load, unload, index) is off; set AINATIVE_REPOSITORY_TOKEN "
                           "when starting `ainative serve` to turn it on with a token")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), policy.token.encode()):
        raise Refusal(401, "the model repository API needs 'Authorization: Bearer TOKEN'",
                      ((b"www-authenticate", b"Bearer"),))


def check_length(policy: Policy, length: str | None) -> None:
    if length is not None and (not length.isdigit() or int(length) > policy.max_bytes):
        raise Refusal(413, f"the request body ({length} bytes) is larger than this server takes "
                           f"({policy.max_bytes} bytes; --max-request-bytes)")


def check_encoding(encoding: str | None) -> bool:
    """Whether the body is gzip-compressed; any encoding but gzip or identity is refused."""
    codings = [c.strip().lower() for c in (encoding or "").split(",") if c.strip().lower() not in ("", "identity")]
    if codings not in ([], ["gzip"]):
        raise Refusal(415, f"Content-Encoding {encoding!r} is not supported; send gzip or no encoding")
    return codings == ["gzip"]


def inflate(body: bytes, limit: int) -> bytes:
    """A gzip body decompressed, refused as soon as it grows past ``limit`` bytes (a gzip bomb costs nothing)."""
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        inflated = decompressor.decompress(body, limit + 1)
    except zlib.error as error:
        raise Refusal(400, f"the gzip body could not be decompressed: {error}") from None
    if len(inflated) > limit:
        raise Refusal(413, f"the gzip body decompresses to more than this server takes ({limit} bytes; "
                           "--max-request-bytes)")
    if not decompressor.eof or decompressor.unused_data:
        raise Refusal(400, "the gzip body is truncated or followed by other data")
    return inflated


def check_shapes(body: bytes) -> None:
    """Every ``shape`` in a JSON inference request is a list of integers, as written (not ``2.0``, not ``"2"``)."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return
    inputs = document.get("inputs") if isinstance(document, dict) else None
    for entry in inputs if isinstance(inputs, list) else ():
        shape = entry.get("shape") if isinstance(entry, dict) else None
        if isinstance(shape, list) and any(type(d) is not int for d in shape):
            raise Refusal(400, f"input {entry.get('name')!r} has shape {shape}: axes are non-negative integers")


async def read_body(receive, limit: int, deadline: float) -> bytes:
    """The whole body, refused past ``limit`` bytes or past ``deadline`` (``time.monotonic()``)."""
    chunks, size = [], 0
    while True:
        try:
            message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            raise Refusal(408, "the request body did not arrive in time (--request-timeout)") from None
        if message["type"] == "http.disconnect":
            raise ConnectionAbortedError
        size += len(message.get("body", b""))
        if size > limit:
            raise Refusal(413, f"the request body is larger than this server takes ({limit} bytes; "
                               "--max-request-bytes)")
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


class Guard:
    """ASGI middleware applying a ``Policy`` to every HTTP request before the app sees it."""

    def __init__(self, app, policy: Policy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        deadline = time.monotonic() + self.policy.timeout_s
        headers = {name: value.decode("latin-1") for name, value in scope["headers"]}
        try:
            check_host(self.policy, headers.get(b"host"))
            check_origin(self.policy, headers.get(b"origin"), headers.get(b"host"))
            check_repository(self.policy, scope["path"], headers.get(b"authorization"))
            check_length(self.policy, headers.get(b"content-length"))
            gzipped = check_encoding(headers.get(b"content-encoding"))
            body = await read_body(receive, self.policy.max_bytes, deadline)
            if gzipped:
                body = inflate(body, self.policy.max_bytes)
            if scope["method"] == "POST" and INFER.fullmatch(scope["path"]):
                check_shapes(body)
        except Refusal as refusal:
            return await _answer(send, refusal)
        except ConnectionAbortedError:
            return None
        if gzipped:
            kept = [(n, v) for n, v in scope["headers"] if n not in (b"content-encoding", b"content-length")]
            scope = {**scope, "headers": [*kept, (b"content-length", str(len(body)).encode())]}
        await self.app(scope, _replay(body, receive), send)


def _replay(body: bytes, receive):
    """An ASGI ``receive`` giving the body read already, then waiting on the client (for its disconnect)."""
    given = False

    async def replayed():
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


async def _answer(send, refusal: Refusal) -> None:
    """A JSON error as MLServer writes them (``{"error": ...}``), closing the connection (its body may be unread)."""
    content = json.dumps({"error": refusal.message}).encode()
    await send({"type": "http.response.start", "status": refusal.status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode()),
                            (b"connection", b"close"), *refusal.headers]})
    await send({"type": "http.response.body", "body": content})
