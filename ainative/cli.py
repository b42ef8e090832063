"""The ``ainative`` command: ``ainative serve FOLDER`` serves an exported repository with MLServer.

It runs MLServer in this process (``ainative/serving/server.py``), with safe defaults: loopback
only, requests must name the server in ``Host``, no cross-origin requests unless settings.json's
``cors_settings`` allows them, no model repository API unless ``AINATIVE_REPOSITORY_TOKEN`` is
set, bounded request sizes and read times. Every model loads before the ports open.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import Callable
from pathlib import Path

from .serving.settings import Options

TOKEN_VARIABLE = "AINATIVE_REPOSITORY_TOKEN"
MIN_TOKEN_LENGTH = 16


def port(text: str) -> int:
    """A TCP port number, 1 to 65535."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"{number} is not a port (1 to 65535)")
    return number


def positive(kind: type[int] | type[float]) -> Callable[[str], int | float]:
    """An argparse type for numbers above zero (a zero limit or time-out would refuse every request)."""
    def parse(text: str) -> int | float:
        try:
            number = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not number > 0:
            raise argparse.ArgumentTypeError(f"{text} is not above zero")
        return number
    return parse


def serve(options: Options) -> int:
    """Serve until stopped: 0 after a signal stops a running server, 1 when it cannot start (with why)."""
    try:
        from .serving.server import ServeError, run
    except ImportError as error:
        print(f"ainative serve: {error.name} is not installed; pip install 'ainative[serve]'", file=sys.stderr)
        return 2
    with contextlib.suppress(ImportError):  # MLServer installs uvloop except on Windows
        import uvloop

        uvloop.install()
    print(f"ainative serve: {options.folder} at http://{options.host}:{options.port}/v2 "
          f"(gRPC {options.host}:{options.grpc_port})", flush=True)
    try:
        asyncio.run(run(options))
    except ServeError as error:
        print(f"ainative serve: {error}", file=sys.stderr)
        return 1
    except asyncio.CancelledError:
        print("ainative serve: stopped before every model had loaded", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, refusing bad ports, limits and tokens before anything starts."""
    parser = argparse.ArgumentParser(prog="ainative", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    serving = commands.add_parser("serve", help="serve an exported model repository with MLServer")
    serving.add_argument("folder", type=Path, help="the folder m.export_serving(...) wrote")
    serving.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serving.add_argument("--port", type=port, default=8080, help="HTTP port (default: 8080)")
    serving.add_argument("--grpc-port", type=port, default=None, help="gRPC port (default: HTTP port + 1)")
    serving.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                         help="a name clients may use in the Host header besides the bound address and localhost "
                              "(repeatable; '*' for any)")
    serving.add_argument("--max-request-bytes", type=positive(int), default=16 * 2**20,
                         help="largest request body, before and after gzip, and gRPC message (default: 16 MiB)")
    serving.add_argument("--request-timeout", type=positive(float), default=10.0, metavar="SECONDS",
                         help="time to receive a request's head, and then its body (default: 10)")
    args = parser.parse_args(argv)
    grpc_port = args.grpc_port or args.port + 1
    if grpc_port > 65535 or grpc_port == args.port:
        parser.error(f"the gRPC port {grpc_port} is not a free choice next to HTTP port {args.port}; "
                     "give --grpc-port")
    token = os.environ.get(TOKEN_VARIABLE) or None
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        parser.error(f"{TOKEN_VARIABLE} is shorter than {MIN_TOKEN_LENGTH} characters")
    if not (args.folder / "settings.json").is_file():
        print(f"ainative serve: {args.folder} has no settings.json; export it with m.export_serving(...)",
              file=sys.stderr)
        return 2
    return serve(Options(folder=args.folder, host=args.host, port=args.port, grpc_port=grpc_port,
                         allow_hosts=tuple(args.allow_host), max_request_bytes=args.max_request_bytes,
                         request_timeout_s=args.request_timeout, token=token))


if __name__ == "__main__":
    sys.exit(main())
