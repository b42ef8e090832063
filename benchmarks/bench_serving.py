"""Serving: ``ainative serve`` on 127.0.0.1 under a bounded load, beside onnxruntime in-process.

One process generates the load (asyncio, keep-alive connections, requests encoded once): HTTP
JSON and gRPC with raw tensor contents, batch 1 and 64, 1, 8 and 32 requests in flight. Each
cell runs for a fixed time after a warm-up, every request has a time-out, and every answer is
checked (status, and the values of the first one on each connection). The server shares the
machine's cores with the load generator, as it would with any client on the same host.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime

import ainative

MLP = """x ∈ ℝ^D
W₁ ∈ ℝ^{H×D};  b₁ ∈ ℝ^H
W₂ ∈ ℝ^{K×H};  b₂ ∈ ℝ^K
h = tanh(W₁ x + b₁)
y = softmax(W₂ h + b₂)"""
BATCHES = (1, 64)
CONCURRENCY = (1, 8, 32)
SECONDS, WARMUP, TIMEOUT = float(os.environ.get("AINATIVE_BENCH_SERVING_SECONDS", "2")), 0.3, 5.0

PROTOCOLS = {"http": "HTTP JSON", "grpc": "gRPC raw, unary", "grpc-stream": "gRPC raw, stream"}

Send = Callable[[], Awaitable[bool]]
Client = tuple[Send, Callable[[], Awaitable[None]]]


@dataclass(frozen=True)
class Load:
    """What one cell measured: requests per second, rows per second, latency percentiles, failures."""

    requests_per_s: float
    rows_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int

    def __str__(self) -> str:
        return (f"{self.requests_per_s:,.0f} req/s, {self.rows_per_s:,.0f} rows/s, p50 {self.p50_ms:.2f} ms, "
                f"p99 {self.p99_ms:.2f} ms, {self.errors} errors")


def summarise(latencies: list[float], seconds: float, batch: int, errors: int) -> Load:
    """A cell's numbers from its latencies (seconds) and its wall time."""
    if not latencies:
        return Load(0.0, 0.0, float("nan"), float("nan"), errors)
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return Load(len(latencies) / seconds, len(latencies) * batch / seconds, statistics.median(ordered) * 1e3,
                p99 * 1e3, errors)


async def drive(connect: Callable[[], Awaitable[Client]], concurrency: int, batch: int) -> Load:
    """``concurrency`` clients, each with its own connection, send back to back for ``SECONDS`` after a warm-up."""
    clients = [await connect() for _ in range(concurrency)]
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter()
    measuring_from, until = start + WARMUP, start + WARMUP + SECONDS

    async def client(send: Send) -> None:
        nonlocal errors
        while (now := time.perf_counter()) < until:
            try:
                ok = await asyncio.wait_for(send(), TIMEOUT)
            except Exception:
                ok = False
            done = time.perf_counter()
            if now >= measuring_from:
                if ok:
                    latencies.append(done - now)
                else:
                    errors += 1

    await asyncio.gather(*(client(send) for send, _ in clients))
    seconds = time.perf_counter() - measuring_from
    for _, close in clients:
        await close()
    return summarise(latencies, seconds, batch, errors)


def http_body(x: np.ndarray) -> bytes:
    """A V2 JSON inference request for input ``x``."""
    return json.dumps({"inputs": [{"name": "x", "shape": list(x.shape), "datatype": "FP32",
                                   "data": x.ravel().tolist()}]}).encode()


def http_connector(port: int, x: np.ndarray, expected: np.ndarray) -> Callable[[], Awaitable[Client]]:
    """Keep-alive HTTP/1.1 clients posting one encoded request; the first answer's values are checked."""
    body = http_body(x)
    request = (f"POST /v2/models/mlp/infer HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body

    async def connect() -> Client:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        checked = False

        async def send() -> bool:
            nonlocal checked
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            answer = await reader.readexactly(length)
            if head[9:12] != b"200":
                return False
            if not checked:
                values = np.array(json.loads(answer)["outputs"][0]["data"], np.float32)
                checked = bool(np.allclose(values, expected.ravel(), rtol=1e-4, atol=1e-6))
                return checked
            return True

        async def close() -> None:
            writer.close()

        return send, close

    return connect


def grpc_connector(port: int, x: np.ndarray, expected: np.ndarray, stream: bool) -> Callable[[], Awaitable[Client]]:
    """gRPC clients (one channel each) sending a request with raw tensor contents, as unary calls or on one
    ``ModelStreamInfer`` stream each; the first answer is checked."""
    import grpc
    from tritonclient.grpc import service_pb2

    request = service_pb2.ModelInferRequest(model_name="mlp", inputs=[service_pb2.ModelInferRequest.InferInputTensor(
        name="x", datatype="FP32", shape=list(x.shape))], raw_input_contents=[x.tobytes()]).SerializeToString()

    async def connect() -> Client:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        await channel.channel_ready()
        if stream:
            call = channel.stream_stream("/inference.GRPCInferenceService/ModelStreamInfer")()

            async def infer(message: bytes) -> bytes:
                await call.write(message)
                return await call.read()
        else:
            infer = channel.unary_unary("/inference.GRPCInferenceService/ModelInfer")
        checked = False

        async def send() -> bool:
            nonlocal checked
            answer = await infer(request)
            if not checked:
                response = service_pb2.ModelInferResponse.FromString(answer)
                values = np.frombuffer(response.raw_output_contents[0], np.float32)
                checked = bool(np.allclose(values, expected.ravel(), rtol=1e-4, atol=1e-6))
                return checked
            return True

        async def close() -> None:
            await channel.close()

        return send, close

    return connect


def in_process(session: onnxruntime.InferenceSession, x: np.ndarray, seconds: float) -> Load:
    """onnxruntime called back to back in this process: the ceiling for any server."""
    latencies = []
    start = time.perf_counter()
    until = start + seconds
    while (now := time.perf_counter()) < until:
        session.run(None, {"x": x})
        latencies.append(time.perf_counter() - now)
    return summarise(latencies, time.perf_counter() - start, len(x), 0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(folder: Path, port: int, grpc_port: int) -> subprocess.Popen:
    """``ainative serve`` in its own session, once its model answers ready."""
    process = subprocess.Popen([sys.executable, "-m", "ainative.cli", "serve", str(folder), "--port", str(port),
                                "--grpc-port", str(grpc_port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/models/mlp/ready", timeout=1) as answer:
                if answer.status == 200:
                    return process
        except OSError:
            time.sleep(0.2)
    stop_server(process)
    raise RuntimeError(f"ainative serve did not become ready: {process.stderr.read().decode()[-2000:]}")


def stop_server(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def session_for(path: Path) -> onnxruntime.InferenceSession:
    """onnxruntime as the server runs it (one intra-op thread, the fastest for this graph in this process too)."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def measure() -> dict[tuple[str, int, int], tuple[Load, Load]]:
    """Every cell: (protocol, batch, concurrency) → (its load, onnxruntime in-process just before it)."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    model = ainative.model(MLP, header="mlp(x) -> y")
    params = model.init(0, D=4, H=16, K=3)
    rng = np.random.default_rng(0)
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        model.export_serving(folder, params, formats=("kserve-v2", "mlserver"))
        session = session_for(Path(folder) / "mlp" / "1" / "model.onnx")
        inputs = {batch: rng.normal(size=(batch, 4)).astype(np.float32) for batch in BATCHES}
        port, grpc_port = free_port(), free_port()
        process = start_server(Path(folder), port, grpc_port)
        try:
            for batch, x in inputs.items():
                expected = session.run(None, {"x": x})[0]
                for protocol, connector in (("http", http_connector(port, x, expected)),
                                            ("grpc", grpc_connector(grpc_port, x, expected, stream=False)),
                                            ("grpc-stream", grpc_connector(grpc_port, x, expected, stream=True))):
                    for concurrency in CONCURRENCY:
                        reference = in_process(session, x, SECONDS / 2)
                        results[(protocol, batch, concurrency)] = (asyncio.run(drive(connector, concurrency, batch)),
                                                                   reference)
        finally:
            stop_server(process)
    return results


def target(protocol: str, batch: int, concurrency: int) -> str:
    """The cells with a target; the others are informative."""
    if protocol != "http" and (batch, concurrency) == (64, 8):
        return "rows/s ≥ 25% of in-process"
    if (batch, concurrency) == (1, 8):
        return "p99 ≤ 5 ms"
    return ""


def table(results: dict[tuple[str, int, int], tuple[Load, Load]]) -> str:
    """A Markdown table of every cell beside onnxruntime in-process (run just before it)."""
    lines = ["| protocol | batch | in flight | req/s | rows/s | p50 ms | p99 ms | errors | "
             "in-process rows/s | of in-process | target |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for batch in BATCHES:
        for protocol, label in PROTOCOLS.items():
            for concurrency in CONCURRENCY:
                load, reference = results[(protocol, batch, concurrency)]
                lines.append(f"| {label} | {batch} | {concurrency} | {load.requests_per_s:,.0f} | "
                             f"{load.rows_per_s:,.0f} | {load.p50_ms:.2f} | {load.p99_ms:.2f} | {load.errors} | "
                             f"{reference.rows_per_s:,.0f} | {load.rows_per_s / reference.rows_per_s:.1%} | "
                             f"{target(protocol, batch, concurrency)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(f"ainative serve, MLP 4→16→3, {len(os.sched_getaffinity(0))} cores, client and server on 127.0.0.1, "
          f"{SECONDS:g} s a cell")
    print(table(measure()))
