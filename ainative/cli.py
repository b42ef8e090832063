"""The ``ainative`` command: ``ainative serve FOLDER`` starts MLServer on an exported repository."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path


def serve(folder: Path, host: str, port: int, grpc_port: int) -> int:
    """Replace this process with ``mlserver start`` on ``folder``, bound to ``host``."""
    if not (folder / "settings.json").is_file():
        print(f"ainative serve: {folder} has no settings.json; export it with m.export_serving(...)",
              file=sys.stderr)
        return 2
    mlserver = shutil.which("mlserver", path=os.pathsep.join([str(Path(sys.executable).parent),
                                                             os.environ.get("PATH", "")]))
    if mlserver is None:
        print("ainative serve: MLServer is not installed; pip install 'ainative[serve]'", file=sys.stderr)
        return 2
    env = {**os.environ, "MLSERVER_HOST": host, "MLSERVER_HTTP_PORT": str(port),
           "MLSERVER_GRPC_PORT": str(grpc_port)}
    print(f"ainative serve: {folder} at http://{host}:{port}/v2 (gRPC {host}:{grpc_port})", flush=True)
    os.execve(mlserver, [mlserver, "start", str(folder)], env)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ainative", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serving = commands.add_parser("serve", help="serve an exported model repository with MLServer")
    serving.add_argument("folder", type=Path, help="the folder m.export_serving(...) wrote")
    serving.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serving.add_argument("--port", type=int, default=8080, help="HTTP port (default: 8080)")
    serving.add_argument("--grpc-port", type=int, default=None, help="gRPC port (default: HTTP port + 1)")
    args = parser.parse_args(argv)
    return serve(args.folder, args.host, args.port, args.grpc_port or args.port + 1)


if __name__ == "__main__":
    sys.exit(main())
