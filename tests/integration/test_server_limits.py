"""The `[server]` limits of README's configuration table reach the running server: a head
trickled a byte at a time is cut at `header_timeout` with a 408, and `max_connections` holds
connections past the cap in the kernel's backlog until one closes (src/http: the limits
themselves are unit-tested in server_hardening_test.cc; this checks `sluice serve` wires them).
"""

import socket
import time
import unittest

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


if __name__ == "__main__":
    unittest.main()
