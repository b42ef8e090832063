"""``ainative serve``: MLServer run from our own entry point, with the guards MLServer has no switch for.

``mlserver start`` loads models while its servers already listen (a model that fails leaves a
server that answers, or exits 0), reads a broken model-settings.json as "no model", shares a
gRPC port with another server (``SO_REUSEPORT``), and has no hook for an HTTP middleware. Here
MLServer's own classes run in our order: read every settings file (a broken one is an error
naming it), check that both ports are free, load every model, then listen, through the guard
(``guard.py``) on HTTP and the repository guard and raw-contents path (``rpc.py``) on gRPC.
"""

from __future__ import annotations

import asyncio
import glob
import os
import socket
from pathlib import Path

from fastapi.exceptions import RequestValidationError
from grpc import aio
from mlserver import MLServer
from mlserver.grpc.dataplane_pb2_grpc import add_GRPCInferenceServiceServicer_to_server
from mlserver.grpc.model_repository import ModelRepositoryServicer
from mlserver.grpc.model_repository_pb2_grpc import add_ModelRepositoryServiceServicer_to_server
from mlserver.grpc.server import GRPCServer
from mlserver.repository.load import load_model_settings
from mlserver.rest.responses import Response
from mlserver.rest.server import RESTServer
from mlserver.settings import CORSSettings, ModelSettings, Settings
from uvicorn.protocols.http.h11_impl import H11Protocol

from .guard import Guard, Policy
from .rpc import RepositoryGuard, Servicer
from .settings import Options

LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")


class ServeError(Exception):
    """Why the repository cannot be served; the message names the file or port at fault."""


def read_repository(folder: Path) -> tuple[Settings, list[ModelSettings]]:
    """settings.json and every model-settings.json under ``folder``; any that does not parse is an error."""
    path = folder / "settings.json"
    if not path.is_file():
        raise ServeError(f"{path} is missing; export the repository with m.export_serving(...)")
    try:
        settings = Settings.parse_file(str(path))
    except (OSError, ValueError) as error:
        raise ServeError(f"{path} is not valid MLServer settings: {error}") from None
    settings.model_repository_root = str(folder)
    models = []
    for name in sorted(glob.glob(os.path.join(glob.escape(str(folder)), "**", "model-settings.json"),
                                 recursive=True)):
        try:
            models.append(load_model_settings(name))
        except (OSError, ValueError) as error:
            raise ServeError(f"{name} is not valid MLServer model settings: {error}") from None
    if not models:
        raise ServeError(f"{folder} holds no model (no NAME/model-settings.json)")
    return settings, models


def policy(options: Options, cors: CORSSettings | None) -> Policy:
    """The HTTP guard's policy: the bound address and local names, the allowed origins of ``cors_settings``."""
    hosts = {options.host.lower().strip("[]"), *LOCAL_NAMES, *(h.lower() for h in options.allow_hosts)}
    return Policy(hosts=frozenset(hosts), origins=frozenset(cors.allow_origins or ()) if cors else frozenset(),
                  origin_pattern=cors.allow_origin_regex if cors else None, token=options.token,
                  max_bytes=options.max_request_bytes, timeout_s=options.request_timeout_s)


def check_ports(host: str, ports: tuple[int, ...]) -> None:
    """Each port free on ``host`` (bound as the servers will, without ``SO_REUSEPORT``), before any model loads."""
    for port in ports:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as error:
                raise ServeError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None


class HeadDeadline(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, closing a connection whose request head takes longer than ``seconds``."""

    seconds = 10.0
    _head = None

    def _arm(self) -> None:
        self._disarm()
        self._head = self.loop.call_later(self.seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._head is not None:
            self._head.cancel()
            self._head = None

    def _too_slow(self) -> None:
        if self.cycle is None or self.cycle.response_complete:
            self.transport.close()

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.cycle is not None and not self.cycle.response_complete:
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)


async def _invalid_request(request, error: RequestValidationError) -> Response:
    """422 with what was wrong where, without echoing the body (bytes that are not UTF-8 made FastAPI's a 500)."""
    where = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
                      + (f" ({e['ctx']['error']})" if isinstance(e.get("ctx"), dict) and "error" in e["ctx"] else "")
                      for e in error.errors())
    return Response(status_code=422, content={"error": f"the request is not a valid inference request: {where}"})


class GuardedREST(RESTServer):
    """MLServer's REST server behind the guard, with a head deadline and a 422 that never fails."""

    def __init__(self, settings: Settings, data_plane, model_repository_handlers, guard: Policy) -> None:
        super().__init__(settings, data_plane, model_repository_handlers)
        self._guard = guard
        self._app.add_exception_handler(RequestValidationError, _invalid_request)
        self._app.add_middleware(Guard, policy=guard)

    def _get_config(self):
        config = super()._get_config()
        config.http = type("HeadDeadline", (HeadDeadline,), {"seconds": self._guard.timeout_s})
        return config


class GuardedGRPC(GRPCServer):
    """MLServer's gRPC server on a port it does not share, with the repository guard and the raw path."""

    def __init__(self, settings: Settings, data_plane, model_repository_handlers, registry, token: str | None):
        super().__init__(settings, data_plane, model_repository_handlers)
        self._registry, self._token = registry, token

    def _create_server(self):
        self._inference_servicer = Servicer(self._data_plane, self._model_repository_handlers, self._registry)
        self._model_repository_servicer = ModelRepositoryServicer(self._model_repository_handlers)
        self._server = aio.server(interceptors=[RepositoryGuard(self._token)],
                                  options=[("grpc.so_reuseport", 0), *self._get_options()])
        add_GRPCInferenceServiceServicer_to_server(self._inference_servicer, self._server)
        add_ModelRepositoryServiceServicer_to_server(self._model_repository_servicer, self._server)
        address = f"{self._settings.host}:{self._settings.grpc_port}"
        if self._server.add_insecure_port(address) == 0:
            raise ServeError(f"cannot listen on {address} (gRPC)")
        return self._server


class GuardedServer(MLServer):
    """MLServer that loads every model before it listens, and listens only through the guards."""

    def __init__(self, settings: Settings, guard: Policy) -> None:
        self._guard = guard
        self._serving = False
        self._loading = asyncio.current_task()
        super().__init__(settings)

    def _create_servers(self) -> None:
        if self._settings.kafka_enabled:
            raise ServeError("settings.json turns Kafka on, which ainative serve does not guard; turn it off")
        self._rest_server = GuardedREST(self._settings, self._data_plane, self._model_repository_handlers,
                                        self._guard)
        self._grpc_server = GuardedGRPC(self._settings, self._data_plane, self._model_repository_handlers,
                                        self._model_registry, self._guard.token)
        self._kafka_server = None

    async def start(self, models_settings: list[ModelSettings]) -> None:
        for model_settings in models_settings:
            try:
                await self._model_registry.load(model_settings)
            except Exception as error:
                raise ServeError(f"model {model_settings.name} ({model_settings._source}) could not be loaded: "
                                 f"{error}") from None
        self._serving = True
        await super().start([])

    async def stop(self, sig: int | None = None) -> None:
        if not self._serving:
            self._loading.cancel()
            return
        await super().stop(sig)


async def run(options: Options) -> None:
    """Serve ``options.folder`` until a signal stops the server; ``ServeError`` before anything listens."""
    settings, models = read_repository(options.folder)
    settings.host, settings.http_port, settings.grpc_port = options.host, options.port, options.grpc_port
    settings.grpc_max_message_length = options.max_request_bytes
    metrics = (settings.metrics_port,) if settings.metrics_endpoint else ()
    check_ports(options.host, (options.port, options.grpc_port, *metrics))
    server = GuardedServer(settings, policy(options, settings.cors_settings))
    await server.start(models)
