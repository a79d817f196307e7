"""The `[server]` limits of README's configuration table reach the running server: a head
trickled a byte at a time is cut at `header_timeout` with a 408, `max_connections` holds
connections past the cap in the kernel's backlog until one closes, and `max_uploads` refuses an
upload while that many are held (src/http: the limits themselves are unit-tested in
server_hardening_test.cc and server_upload_test.cc; this checks `sluice serve` wires them). A
multipart body of many empty parts is refused without multiplying its memory.
"""

import socket
import time
import unittest
import uuid

import harness


class ServerLimitsTest(harness.IntegrationTest):
    def test_a_trickled_head_is_cut_at_the_configured_header_timeout(self):
        # 1 s here; the default is 10 s, so a close well before 10 s comes from the config.
        server = self.start_server(server={"header_timeout": "1s", "idle_timeout": "30s"})
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=15)
        self.addCleanup(sock.close)
        start = time.monotonic()
        head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "
        answer = b""
        for byte in head + b"a" * 40:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break
            sock.settimeout(0.25)
            try:
                chunk = sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                break
            answer += chunk
            if not chunk or b"\r\n\r\n" in answer:
                break
        elapsed = time.monotonic() - start
        self.assertIn(b" 408 ", answer.split(b"\r\n", 1)[0])
        self.assertLess(elapsed, 8.0)  # a failure detector, not a timing claim: the default is 10 s

    def test_connections_past_max_connections_wait_for_a_free_slot(self):
        server = self.start_server(server={"max_connections": 2})
        held = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(2)]
        for s in held:
            self.addCleanup(s.close)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertIn(b" 200 ", s.recv(4096))
        waiting = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        self.addCleanup(waiting.close)
        waiting.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        waiting.settimeout(1.0)
        with self.assertRaises(socket.timeout):
            waiting.recv(4096)  # not served while two connections are open
        held[0].close()
        waiting.settimeout(10.0)
        self.assertIn(b" 200 ", waiting.recv(4096))


    def test_an_upload_past_max_uploads_is_refused_until_one_is_stored(self):
        server = self.start_server(server={"max_uploads": 1})
        body, ctype = harness.multipart(fields={"purpose": "batch"},
                                        files={"file": ("in.jsonl", '{"custom_id":"a"}\n' * 1000, "application/jsonl")})
        # An upload whose body is still arriving holds the one slot.
        held = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        self.addCleanup(held.close)
        held.sendall(("POST /v1/files HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\n"
                      "Content-Length: %d\r\n\r\n" % (ctype, len(body))).encode() + body[:100])

        def refused():
            r = harness.request("POST", server.url + "/v1/files", data=body, headers={"Content-Type": ctype})
            return r if r.status == 503 else None
        r = harness.wait_until(refused, message="a second upload is refused while the first is held")
        self.assertEqual(r.error_code, "too_many_uploads")
        self.assertEqual(r.header("Retry-After"), "1")
        # Other routes are not held back.
        self.assertEqual(harness.request("GET", server.url + "/healthz").status, 200)
        held.sendall(body[100:])
        held.settimeout(10)
        self.assertIn(b" 200 ", held.recv(4096))
        r = harness.request("POST", server.url + "/v1/files", data=body, headers={"Content-Type": ctype})
        self.assertEqual(r.status, 200, r)

    def test_a_body_of_empty_parts_is_refused_without_multiplying_its_memory(self):
        server = self.start_server()
        boundary = "b" + uuid.uuid4().hex[:8]
        part = ("--%s\r\nContent-Disposition: form-data; name=x\r\n\r\n\r\n" % boundary).encode()
        body = part * ((50 << 20) // len(part)) + ("--%s--\r\n" % boundary).encode()
        before = harness.proc_status_kib(server.pid, "VmHWM")
        r = harness.request("POST", server.url + "/v1/files", data=body, timeout=60,
                            headers={"Content-Type": "multipart/form-data; boundary=" + boundary})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.error_code, "invalid_multipart")
        self.assertIn("more than 16 parts", r.body["error"]["message"])
        grown_mib = (harness.proc_status_kib(server.pid, "VmHWM") - before) / 1024
        # The body itself (50 MiB, held once) and the parser's buffer; before the part bound,
        # the parts' records took +960 MiB for this body.
        self.assertLess(grown_mib, 250, "peak RSS grew %.0f MiB" % grown_mib)
        print("empty-parts body: peak RSS +%.0f MiB" % grown_mib)

if __name__ == "__main__":
    unittest.main()
