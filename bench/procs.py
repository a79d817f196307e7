"""Processes the benchmarks start besides sluice (Redis, Node scripts), with the same guarantees
as the integration harness: each runs in its own session (a Ctrl-C reaches only us), dies with
us (PR_SET_PDEATHSIG), and is killed at interpreter exit if still running; a SIGTERM to us ends
the run like a Ctrl-C (the harness installs that handler)."""
import atexit
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))
import harness  # noqa: E402

PEERS = Path(__file__).resolve().parent / "peers"
_live = set()
_lock = threading.Lock()


def _spawn(argv, cwd, stdout, stderr):
    proc = subprocess.Popen([str(a) for a in argv], cwd=str(cwd), stdin=subprocess.DEVNULL, stdout=stdout,
                            stderr=stderr, start_new_session=True,
                            preexec_fn=harness._die_with_parent if harness._libc is not None else None)
    with _lock:
        _live.add(proc)
    return proc


def _reap(proc, timeout=10.0):
    if proc.poll() is None:
        proc.kill()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    with _lock:
        _live.discard(proc)


@atexit.register
def _kill_all():
    with _lock:
        procs = list(_live)
    for p in procs:
        _reap(p)


def redis_server_bin():
    return shutil.which("redis-server") or "/usr/bin/redis-server"


class Redis:
    """A redis-server of our own on a free loopback port. aof=False: no persistence at all (no RDB
    snapshots, no AOF); aof=True: appendonly yes, appendfsync everysec."""

    def __init__(self, tmp_dir, aof=False):
        self.tmp_dir = Path(tmp_dir)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.aof = aof
        self.port = None
        self.proc = None

    def start(self):
        for _ in range(3):
            self.port = harness.free_port()
            conf = self.tmp_dir / ("redis-%d.conf" % self.port)
            conf.write_text("\n".join([
                "port %d" % self.port, "bind 127.0.0.1", "protected-mode yes", "daemonize no",
                "dir %s" % self.tmp_dir, 'save ""', "appendonly %s" % ("yes" if self.aof else "no"),
                "appendfsync everysec", "logfile %s" % (self.tmp_dir / ("redis-%d.log" % self.port)),
                "maxmemory 0", ""]))
            self.proc = _spawn([redis_server_bin(), str(conf)], self.tmp_dir, subprocess.DEVNULL, subprocess.DEVNULL)
            try:
                harness.wait_until(self._pong, timeout=10, message="redis-server to answer PING")
                return self
            except harness.WaitTimeout:
                _reap(self.proc)
        raise RuntimeError("redis-server did not start (see %s)" % self.tmp_dir)

    def _pong(self):
        if self.proc.poll() is not None:
            raise RuntimeError("redis-server exited with %s" % self.proc.returncode)
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        if self.proc is not None:
            _reap(self.proc)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def node_bin():
    return shutil.which("node") or "node"


def peers_ready():
    """None when the BullMQ peer can run, else why not."""
    if not shutil.which("redis-server"):
        return "redis-server is not installed (scripts/install-bench-deps.sh)"
    if not shutil.which("node"):
        return "node is not installed (scripts/install-bench-deps.sh)"
    if not (PEERS / "node_modules" / "bullmq").is_dir():
        return "bench/peers/node_modules is missing (npm ci in bench/peers, or scripts/install-bench-deps.sh)"
    return None


class NodePeer:
    """`node bench/peers/bullmq_peer.mjs <mode> ...` with its stdout read line by line (each line
    one JSON object)."""

    def __init__(self, mode, redis_port, tmp_dir, **opts):
        argv = [node_bin(), PEERS / "bullmq_peer.mjs", mode, "--port", redis_port]
        for k, v in opts.items():
            argv += ["--" + k.replace("_", "-"), v]
        self.tmp_dir = Path(tmp_dir)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.err_path = self.tmp_dir / ("node-%s-%d.stderr.log" % (mode, time.monotonic_ns()))
        self._err = open(self.err_path, "wb")
        self.proc = _spawn(argv, PEERS, subprocess.PIPE, self._err)
        self.mode = mode

    @property
    def pid(self):
        return self.proc.pid

    def line(self, timeout):
        """The next JSON line, waiting at most `timeout` seconds."""
        out = {}

        def read():
            out["line"] = self.proc.stdout.readline()
        t = threading.Thread(target=read, daemon=True)
        t.start()
        t.join(timeout)
        if t.is_alive():
            self.kill()
            raise RuntimeError("node %s: no answer within %.0f s\n%s" % (self.mode, timeout, self.stderr()))
        if not out["line"]:
            self.proc.wait(timeout=10)
            raise RuntimeError("node %s exited with %s\n%s" % (self.mode, self.proc.returncode, self.stderr()))
        return json.loads(out["line"])

    def stderr(self):
        try:
            return self.err_path.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def kill(self):
        _reap(self.proc)
        self._err.close()

    def wait(self, timeout=60):
        try:
            self.proc.wait(timeout=timeout)
        finally:
            self.kill()


def run_node(mode, redis_port, tmp_dir, timeout=300, **opts):
    """Runs a peer mode to its end and returns its (last) JSON line."""
    p = NodePeer(mode, redis_port, tmp_dir, **opts)
    try:
        return p.line(timeout)
    finally:
        p.wait()


def vm_hwm_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def pids_alive(pids):
    return [p for p in pids if p and os.path.exists("/proc/%d" % p)]
