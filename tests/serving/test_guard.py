"""What the served HTTP endpoint refuses by default: foreign hosts and origins, the repository API,
oversized or inflating bodies, slow requests, and values the model cannot take (4xx, never 500)."""

import gzip
import http.client
import json
import socket
import time
import zlib

import numpy as np
import pytest

from tests.serving.conftest import JSON, LIMIT, infer_body, model_ready, request

INFER = "/v2/models/mlp/infer"


def until_closed(client: socket.socket) -> str:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := client.recv(65536):
        received += chunk
    return received.decode()


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def test_a_cross_site_unload_is_refused_and_the_model_stays(server):
    status, answer = request(server, "POST", "/v2/repository/models/mlp/unload", b"x",
                             {"Origin": "http://evil.example", "Content-Type": "text/plain"})
    assert status == 403 and "cross-origin" in answer["error"]
    assert model_ready(server)


def test_the_repository_api_is_off_by_default(server):
    for path in ("/v2/repository/models/mlp/unload", "/v2/repository/models/mlp/load", "/v2/repository/index"):
        status, answer = request(server, "POST", path, b"{}", JSON)
        assert status == 403 and "AINATIVE_REPOSITORY_TOKEN" in answer["error"]
    assert model_ready(server)


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.2:{port}", ""])
def test_a_foreign_host_header_is_refused(server, host):
    status, answer = request(server, "GET", "/v2/models/mlp/ready", headers={"Host": host.format(port=server.port)})
    assert status == 400 and "--allow-host" in answer["error"]


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "localhost", "[::1]:{port}"])
def test_the_bound_address_and_localhost_are_served(server, host):
    assert request(server, "GET", "/v2/models/mlp/ready", headers={"Host": host.format(port=server.port)})[0] == 200


def test_a_same_origin_request_is_served_and_no_cors_is_granted(server):
    status, _ = request(server, "POST", INFER, infer_body(), {**JSON, "Origin": server.url})
    assert status == 200
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("OPTIONS", INFER, headers={"Origin": "http://evil.example",
                                                  "Access-Control-Request-Method": "POST"})
    answer = connection.getresponse()
    answer.read()
    connection.close()
    assert answer.status == 403 and answer.getheader("Access-Control-Allow-Origin") is None


def gzip_bomb(inflated_mib: int) -> bytes:
    """Zeros gzip-compressed a MiB at a time (the inflated body never exists in memory here)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = bytes(2**20)
    return b"".join([*(compressor.compress(chunk) for _ in range(inflated_mib)), compressor.flush()])


def test_a_gzip_bomb_is_refused_before_it_inflates(server):
    bomb = gzip_bomb(1024)
    assert len(bomb) <= LIMIT
    before = rss_kib(server.process.pid)
    start = time.monotonic()
    status, answer = request(server, "POST", INFER, bomb, {**JSON, "Content-Encoding": "gzip"})
    assert status == 413 and "decompresses to more" in answer["error"]
    assert time.monotonic() - start < 5
    assert rss_kib(server.process.pid) - before < 64 * 1024


def test_a_gzip_body_within_the_limit_is_served(exported, server):
    model, params, _ = exported
    x = np.array([[0.1, 0.2, 0.3, 0.4]], np.float32)
    status, answer = request(server, "POST", INFER, gzip.compress(infer_body()), {**JSON, "Content-Encoding": "gzip"})
    assert status == 200
    np.testing.assert_allclose(answer["outputs"][0]["data"], model(params, x=x).ravel(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("headers", "status", "words"), [
    ({"Content-Encoding": "br"}, 415, "Content-Encoding"),
    ({"Content-Encoding": "gzip, gzip"}, 415, "Content-Encoding"),
])
def test_unsupported_encodings_are_refused(server, headers, status, words):
    answer = request(server, "POST", INFER, infer_body(), {**JSON, **headers})
    assert answer[0] == status and words in answer[1]["error"]


def test_a_truncated_gzip_body_is_400(server):
    status, answer = request(server, "POST", INFER, gzip.compress(infer_body())[:-12],
                             {**JSON, "Content-Encoding": "gzip"})
    assert status == 400 and "gzip" in answer["error"]


def test_a_body_over_the_limit_is_413_before_it_is_sent(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as client:
        client.sendall(f"POST {INFER} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                       f"Content-Length: {LIMIT + 1}\r\n\r\n".encode())
        answer = until_closed(client)
    assert answer.startswith("HTTP/1.1 413") and "--max-request-bytes" in answer


def test_a_chunked_body_over_the_limit_is_413(server):
    chunks = [b"x" * 65536] * (LIMIT // 65536) + [b"x"]
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as client:
        client.sendall(f"POST {INFER} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
        client.sendall(b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks))
        answer = until_closed(client)
    assert answer.startswith("HTTP/1.1 413") and "--max-request-bytes" in answer


def test_a_body_shorter_than_its_content_length_times_out(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as client:
        start = time.monotonic()
        client.sendall(f"POST {INFER} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                       "Content-Length: 100\r\n\r\n{\"inputs\"".encode())
        answer = until_closed(client)
    assert answer.startswith("HTTP/1.1 408") and "in time" in answer
    assert 0.8 < time.monotonic() - start < 3


def test_a_request_head_trickled_byte_by_byte_is_cut_off(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as client:
        start = time.monotonic()
        closed = False
        for byte in b"GET /v2/models/mlp/ready HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100:
            try:
                client.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            time.sleep(0.05)
            if time.monotonic() - start > 4:
                break
        if not closed:
            client.settimeout(1)
            try:
                closed = client.recv(4096) == b""
            except ConnectionResetError:
                closed = True
    assert closed and time.monotonic() - start < 3


@pytest.mark.parametrize(("entry", "words"), [
    ({"datatype": "INT8", "data": [300, 1, 2, 3]}, "not INT8 integers"),
    ({"datatype": "UINT8", "data": [-1, 1, 2, 3]}, "not UINT8 integers"),
    ({"datatype": "INT64", "data": [2**70, 1, 2, 3]}, "not INT64 integers"),
    ({"datatype": "INT32", "data": [1.5, 1, 2, 3]}, "not INT32 integers"),
    ({"data": ["NaN", 1, 2, 3]}, "not numbers"),
    ({"data": [None, 1, 2, 3]}, "not numbers"),
    ({"data": [True, False, True, True]}, "not numbers"),
    ({"data": [[1, 2], [3]]}, "not numbers"),
    ({"data": [1e39, 1, 2, 3]}, "NaN or infinite"),
    ({"data": [1, 2, 3]}, "needs 4"),
    ({"shape": [-1, 4]}, "non-negative integers"),
    ({"shape": [1.0, 4]}, "non-negative integers"),
    ({"shape": ["1", 4]}, "non-negative integers"),
    ({"shape": [4]}, "expected [-1, 4]"),
])
def test_values_the_model_cannot_take_are_400_with_a_message(server, entry, words):
    status, answer = request(server, "POST", INFER, infer_body(**entry), JSON)
    assert status == 400 and words in answer["error"]


def test_a_non_finite_float_is_refused(server):
    body = infer_body().replace(b"0.1", b"NaN")
    status, answer = request(server, "POST", INFER, body, JSON)
    assert 400 <= status < 500 and answer["error"]


def test_duplicate_inputs_are_400(server):
    tensor = {"name": "x", "shape": [1, 4], "datatype": "FP32", "data": [0.1, 0.2, 0.3, 0.4]}
    status, answer = request(server, "POST", INFER, json.dumps({"inputs": [tensor, tensor]}).encode(), JSON)
    assert status == 400 and "given more than once: x" in answer["error"]


@pytest.mark.parametrize("body", [b'{"inputs": [{"name": "\xff\xfe"}]}', b"\xff\xfe\xfd", b"{", b"[]"])
def test_bodies_that_are_not_inference_requests_are_422_with_a_message(server, body):
    status, answer = request(server, "POST", INFER, body, JSON)
    assert status == 422 and answer["error"].startswith("the request is not a valid inference request")
