"""Outbound answers are bounded: a provider whose answer body passes its `max_response`
(API.md "Configuration", README's table), counted after gzip decoding, fails the call
`response_too_large` instead of being held whole in memory.

The provider here is a small Python server in this test. The plain http:// path goes through
the Asio engine; with an http proxy in the environment http:// goes through libcurl (which
offers gzip), so the same server, acting as the proxy, can answer with a decompression bomb.
"""

import http.server
import threading
import unittest
import zlib

import harness
from harness import submit_ok, wait_job


def gzip_of_zeros(n):
    co = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip member
    chunk = b"\0" * (1 << 20)
    parts = [co.compress(chunk[: min(len(chunk), n - i)]) for i in range(0, n, len(chunk))]
    return b"".join(parts) + co.flush()


class Answer(http.server.BaseHTTPRequestHandler):
    body = b""
    headers_out = {}

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        for k, v in self.headers_out.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        try:
            self.wfile.write(self.body)
        except OSError:
            pass  # the client aborted past its cap

    def log_message(self, *args):
        pass


class OutboundLimitsTest(harness.IntegrationTest):
    def answering(self, body, headers=None):
        handler = type("H", (Answer,), {"body": body, "headers_out": headers or {}})
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        self.addCleanup(srv.server_close)
        self.addCleanup(srv.shutdown)
        return "http://127.0.0.1:%d" % srv.server_address[1]

    def run_chat(self, base_url, env=None):
        server = self.start_server(
            providers=[{"name": "p", "base_url": base_url, "timeout": "20s", "max_concurrency": 4,
                        "max_response": "1MiB"}],
            models=[{"alias": "fast", "provider": "p", "id": "m"}], env=env or {})
        job = submit_ok(server, {"type": "chat", "fallback": False,
                                 "request": {"model": "fast", "messages": [{"role": "user", "content": "hi"}]}})
        return wait_job(server, job["id"], timeout=60)

    def test_a_plain_answer_past_max_response_fails_the_call(self):
        done = self.run_chat(self.answering(b"x" * (4 << 20)) + "/v1")
        self.assertEqual(done["status"], "failed", done)
        self.assertEqual(done["error"]["code"], "response_too_large", done)

    def test_a_gzip_bomb_counts_its_decoded_bytes(self):
        bomb = gzip_of_zeros(64 << 20)
        self.assertLess(len(bomb), 1 << 20)  # under the cap on the wire
        proxy = self.answering(bomb, {"Content-Encoding": "gzip"})
        done = self.run_chat("http://127.0.0.1:9/v1", env={"http_proxy": proxy, "no_proxy": "", "NO_PROXY": ""})
        self.assertEqual(done["status"], "failed", done)
        self.assertEqual(done["error"]["code"], "response_too_large", done)


if __name__ == "__main__":
    unittest.main()
