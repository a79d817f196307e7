"""Harness for Sluice's integration tests: real `sluice serve` and `sluice mock-llm` processes
talking HTTP over loopback, driven from unittest.

    import harness

    class JobsTest(harness.IntegrationTest):
        def test_a_job_runs(self):
            mock = self.start_mock(latency="50ms")
            server = self.start_server(mock=mock)
            job = harness.submit(server, {"type": "classify_ticket",
                                          "input": {"text": "charged twice"}}).body
            done = harness.wait_job(server, job["id"])
            self.assertEqual(done["status"], "done")

Environment:
  SLUICE_BIN        the binary (default <repo>/build/sluice)
  SLUICE_TASKS_DIR  the task types directory (default <repo>/tasks)
  SLUICE_KEEP_TMP=1 keep every test's temp dir (configs, data dirs, logs), not only failed ones

Contracts:
- Every process started here is stopped at the end of its test (IntegrationTest cleanups), at
  interpreter exit (atexit, also after SIGTERM), and, on Linux, killed by the kernel if the test
  process itself dies (PR_SET_PDEATHSIG), so no run leaves a server holding a port.
- Processes get their own session: a Ctrl-C in the terminal reaches only the test runner, which
  then stops them in order.
- stdout/stderr of each process go to files in the test's temp dir; when a test fails or errors,
  their tails are printed and the temp dir is kept (its path is printed).
- Nothing sleeps for a fixed time: readiness and conditions are polled (wait_until).
- A sanitizer report (ASan, LSan, UBSan, TSan; `make test-asan`) in a process's stderr fails the
  test: Process.stop() raises SanitizerReport once the process has exited, with the report.

Standard library only (Python 3.11+).
"""

import atexit
import ctypes
import http.client
import json as _json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SLUICE_BIN = os.environ.get("SLUICE_BIN") or str(REPO / "build" / "sluice")
TASKS_DIR = os.environ.get("SLUICE_TASKS_DIR") or str(REPO / "tasks")
KEEP_TMP = os.environ.get("SLUICE_KEEP_TMP") == "1"

TERMINAL = ("done", "failed", "expired", "canceled")
SETTLED = TERMINAL + ("review",)   # what GET /v1/jobs/{id}?wait= waits for

DEFAULT_READY_TIMEOUT = 30.0
DEFAULT_STOP_TIMEOUT = 30.0


# ---------------------------------------------------------------------------------------------
# Ports and waiting.

def free_port():
    """A TCP port free on 127.0.0.1 a moment ago. Another process may take it before ours binds;
    the process classes retry with a new port when a start fails that way."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WaitTimeout(AssertionError):
    """wait_until gave up. An AssertionError, so a test reports it as a failure."""


def wait_until(predicate, timeout=10.0, interval=0.02, message=None, ignore=(OSError, http.client.HTTPException)):
    """Calls predicate() until it returns something truthy, and returns that value.

    Polls with a growing interval (starting at `interval`, at most 0.25 s). Exceptions of the
    `ignore` types count as "not yet" (a server restarting refuses connections); any other
    exception propagates at once. Raises WaitTimeout after `timeout` seconds, naming `message`
    (a string, or a callable giving one) and the last value or exception seen.
    """
    deadline = time.monotonic() + timeout
    delay = interval
    last = None
    while True:
        try:
            value = predicate()
            if value:
                return value
            last = value
        except ignore as e:
            last = e
        if time.monotonic() >= deadline:
            what = message() if callable(message) else (message or getattr(predicate, "__name__", "condition"))
            raise WaitTimeout("timed out after %.1f s waiting for %s (last: %r)" % (timeout, what, last))
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 1.5, 0.25)


# ---------------------------------------------------------------------------------------------
# HTTP.

class Response:
    """An HTTP answer. Unpacks as (status, headers, body): `body` is the parsed JSON when the
    answer is JSON, else the text; `raw` is the bytes; `headers` is case-insensitive."""

    __slots__ = ("status", "headers", "body", "raw")

    def __init__(self, status, headers, body, raw):
        self.status, self.headers, self.body, self.raw = status, headers, body, raw

    def __iter__(self):
        return iter((self.status, self.headers, self.body))

    def header(self, name, default=None):
        return self.headers.get(name, default)

    @property
    def error_code(self):
        """`error.code` of an API error body, else None."""
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return self.body["error"].get("code")
        return None

    def __repr__(self):
        body = self.body if isinstance(self.body, (dict, list)) else str(self.body)[:500]
        return "Response(%d, %r)" % (self.status, body)


def _encode(json, data, headers):
    headers = dict(headers or {})
    lower = {k.lower() for k in headers}
    if json is not None:
        data = _json.dumps(json, ensure_ascii=False).encode("utf-8")
        if "content-type" not in lower:
            headers["Content-Type"] = "application/json"
    elif isinstance(data, str):
        data = data.encode("utf-8")
    if "accept" not in lower:
        headers["Accept"] = "application/json"
    return data, headers


def _decode(resp, raw):
    ctype = resp.getheader("Content-Type") or ""
    body = raw
    if "json" in ctype or (not ctype and raw[:1] in (b"{", b"[")):
        try:
            body = _json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", errors="replace")
    elif ctype.startswith("text/") or not ctype or "charset" in ctype:
        body = raw.decode("utf-8", errors="replace")
    return Response(resp.status, resp.headers, body, raw)


def _split(url):
    u = urllib.parse.urlsplit(url)
    if u.scheme != "http":
        raise ValueError("only http:// URLs: %r" % url)
    path = u.path or "/"
    if u.query:
        path += "?" + u.query
    return u.hostname, u.port or 80, path


def request(method, url, json=None, headers=None, timeout=10.0, data=None):
    """One request on a fresh connection (closed afterwards). `json` is sent as a JSON body;
    `data` (bytes or str) as a raw body with whatever Content-Type `headers` says.
    Returns a Response (unpacks as (status, headers, body)). Raises OSError when unreachable."""
    host, port, path = _split(url)
    body, hdrs = _encode(json, data, headers)
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        return _decode(resp, resp.read())
    finally:
        conn.close()


class Client:
    """Requests against one base URL, over one keep-alive connection (keep_alive=False: a new
    connection each time). Not thread-safe: give each thread its own Client.

    A request on a reused connection that the server had closed while idle is sent again once
    on a new connection (the server cannot have seen it); any other failure raises."""

    def __init__(self, base_url, keep_alive=True, timeout=10.0, headers=None):
        host, port, prefix = _split(base_url)
        self.host, self.port = host, port
        self.prefix = prefix.rstrip("/")
        self.keep_alive = keep_alive
        self.timeout = timeout
        self.headers = dict(headers or {})
        self._conn = None

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def request(self, method, path, json=None, headers=None, timeout=None, data=None):
        merged = dict(self.headers)
        merged.update(headers or {})
        body, hdrs = _encode(json, data, merged)
        if not self.keep_alive:
            hdrs.setdefault("Connection", "close")
        for attempt in (1, 2):
            reused = self._conn is not None
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout or self.timeout)
            if self._conn.sock is not None:
                self._conn.sock.settimeout(timeout or self.timeout)
            else:
                self._conn.timeout = timeout or self.timeout
            try:
                self._conn.request(method, self.prefix + path, body=body, headers=hdrs)
                resp = self._conn.getresponse()
                raw = resp.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if reused and attempt == 1:
                    continue
                raise
            except BaseException:
                self.close()
                raise
            if not self.keep_alive or resp.will_close:
                self.close()
            return _decode(resp, raw)
        raise AssertionError("unreachable")

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.request("POST", path, json=json, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def multipart(fields=None, files=None):
    """A multipart/form-data body: fields {name: str}, files {name: (filename, bytes, type)}.
    Returns (bytes, content_type), e.g. for POST /v1/files."""
    boundary = "sluice-" + uuid.uuid4().hex
    out = []
    for name, value in (fields or {}).items():
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n" % (boundary, name)).encode())
        out.append(str(value).encode("utf-8") + b"\r\n")
    for name, (filename, content, ctype) in (files or {}).items():
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                    "Content-Type: %s\r\n\r\n" % (boundary, name, filename, ctype)).encode())
        out.append((content.encode("utf-8") if isinstance(content, str) else content) + b"\r\n")
    out.append(("--%s--\r\n" % boundary).encode())
    return b"".join(out), "multipart/form-data; boundary=" + boundary


def proc_status_kib(pid, field="VmRSS"):
    """A process's memory figure from /proc/<pid>/status in KiB: VmRSS now, VmHWM its peak."""
    with open("/proc/%d/status" % pid, encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s for pid %d" % (field, pid))


def parse_metrics(text):
    """Prometheus text -> {(name, ((label, value), ...sorted)): float}. Use metric_sum to add
    series up."""
    import re
    line_re = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)")
    label_re = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"')
    samples = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = line_re.match(line)
        if not m:
            continue
        try:
            value = float(m.group(3))
        except ValueError:
            continue
        labels = tuple(sorted((k, v.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\"))
                              for k, v in label_re.findall(m.group(2) or "")))
        samples[(m.group(1), labels)] = value
    return samples


def metric_sum(samples, name, **labels):
    """Sum of the series of `name` whose labels include all of `labels` (None if none match)."""
    total, found = 0.0, False
    for (n, ls), v in samples.items():
        if n == name and all(dict(ls).get(k) == str(want) for k, want in labels.items()):
            total += v
            found = True
    return total if found else None


# ---------------------------------------------------------------------------------------------
# TOML for the config file.

def _toml_key(key):
    key = str(key)
    if key and all(c.isascii() and (c.isalnum() or c in "_-") for c in key):
        return key
    return _json.dumps(key, ensure_ascii=False)


def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("no NaN or infinity in the config")
        return repr(value)
    if isinstance(value, str):
        return _json.dumps(value, ensure_ascii=False)  # JSON string escapes are valid TOML
    if isinstance(value, Path):
        return _json.dumps(str(value), ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join("%s = %s" % (_toml_key(k), _toml_value(v)) for k, v in value.items()) + "}"
    raise TypeError("cannot write %r to TOML" % (value,))


def to_toml(doc):
    """Writes a config document: top-level dicts become [tables], top-level lists of dicts
    become [[arrays of tables]], anything deeper is written inline. None values and empty
    top-level lists are skipped."""
    doc = {k: v for k, v in doc.items() if v is not None and not (isinstance(v, (list, tuple)) and not v)}
    lines = []
    for key, value in doc.items():
        if isinstance(value, dict):
            continue
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, dict) for v in value):
            continue
        lines.append("%s = %s" % (_toml_key(key), _toml_value(value)))
    for key, value in doc.items():
        if isinstance(value, dict):
            lines.append("")
            lines.append("[%s]" % _toml_key(key))
            lines.extend("%s = %s" % (_toml_key(k), _toml_value(v)) for k, v in value.items() if v is not None)
    for key, value in doc.items():
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, dict) for v in value):
            for item in value:
                lines.append("")
                lines.append("[[%s]]" % _toml_key(key))
                lines.extend("%s = %s" % (_toml_key(k), _toml_value(v)) for k, v in item.items() if v is not None)
    return "\n".join(lines).lstrip("\n") + "\n"


# Keys whose values are durations: a number given for one is taken as milliseconds.
DURATION_KEYS = {"lease", "heartbeat", "poll", "retry_base", "retry_max", "grace", "timeout",
                 "max_wait", "deadline_in", "run_in"}


def _durations(table):
    out = {}
    for k, v in (table or {}).items():
        if k in DURATION_KEYS and isinstance(v, (int, float)) and not isinstance(v, bool):
            v = "%dms" % round(v)
        out[k] = v
    return out


# ---------------------------------------------------------------------------------------------
# Processes.

_libc = None
if sys.platform.startswith("linux"):
    try:
        _libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        _libc = None


def _die_with_parent():
    # Runs in the child between fork and exec. PR_SET_PDEATHSIG = 1.
    if _libc is not None:
        _libc.prctl(1, signal.SIGKILL)


_live = set()                    # every Process with a running child, for atexit
_live_lock = threading.Lock()


class StartError(RuntimeError):
    pass


class SanitizerReport(AssertionError):
    """A sanitizer found something in a process started here (its stderr holds the report)."""


# The first line of each sanitizer's report: ASan/LSan/TSan write "==pid==ERROR: ..." or
# "WARNING: ThreadSanitizer: ...", UBSan "file:line:col: runtime error: ...".
_SANITIZER_REPORT = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer|ThreadSanitizer)|"
                               r"WARNING: ThreadSanitizer|^\S+:\d+(:\d+)?: runtime error: ", re.M)


def sanitizer_report(text, lines=60):
    """The report in `text` (a process's stderr) from its first line on, or None."""
    m = _SANITIZER_REPORT.search(text)
    if m is None:
        return None
    start = text.rfind("\n", 0, m.start()) + 1
    return "\n".join(text[start:].splitlines()[:lines])


class Process:
    """A child process with logs in files and readiness by HTTP. Subclasses give argv() and
    ready_path."""

    name = "process"
    ready_path = "/healthz"

    def __init__(self, tmp_dir=None, port=None, bin=None, env=None, ready_timeout=DEFAULT_READY_TIMEOUT):
        self.bin = str(bin or SLUICE_BIN)
        self._owns_tmp = tmp_dir is None
        self.tmp_dir = Path(tmp_dir) if tmp_dir else Path(tempfile.mkdtemp(prefix="sluice-it-"))
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self._fixed_port = port is not None
        self.port = port or free_port()
        self.env = dict(env or {})
        self.ready_timeout = ready_timeout
        self.proc = None
        self.starts = 0
        self._stderr_checked = 0   # bytes of stderr already searched for a sanitizer report
        tag = "%s-%s" % (self.name, uuid.uuid4().hex[:6])
        self.stdout_path = self.tmp_dir / (tag + ".stdout.log")
        self.stderr_path = self.tmp_dir / (tag + ".stderr.log")

    # -- what subclasses define ---------------------------------------------------------------
    def argv(self):
        raise NotImplementedError

    # -- lifecycle ----------------------------------------------------------------------------
    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def returncode(self):
        return self.proc.poll() if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, wait_ready=True):
        """Starts the process and waits until GET ready_path answers 200. When the process dies
        during start-up and the port was chosen here, retries up to twice on a new port (another
        process may have taken the free port first). Raises StartError with the stderr tail."""
        if self.alive():
            raise StartError("%s is already running (pid %d)" % (self.name, self.proc.pid))
        tries = 1 if self._fixed_port else 3
        for attempt in range(1, tries + 1):
            self._spawn()
            if not wait_ready:
                return self
            try:
                self.wait_ready()
                return self
            except StartError:
                if self.alive() or attempt == tries:
                    self.kill9()
                    raise
                self.port = free_port()
        return self

    def _spawn(self):
        env = dict(os.environ)
        env.update({k: str(v) for k, v in self.env.items()})
        argv = [str(a) for a in self.argv()]
        with open(self.stdout_path, "ab") as out, open(self.stderr_path, "ab") as err:
            banner = ("\n==== start %d: %s ====\n" % (self.starts + 1, " ".join(argv))).encode()
            out.write(banner)
            err.write(banner)
            out.flush()
            err.flush()
            try:
                self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env,
                                             cwd=str(self.tmp_dir), start_new_session=True,
                                             preexec_fn=_die_with_parent if _libc is not None else None)
            except OSError as e:
                raise StartError("cannot run %s: %s (set SLUICE_BIN?)" % (argv[0], e)) from e
        self.starts += 1
        with _live_lock:
            _live.add(self)

    def wait_ready(self, timeout=None):
        timeout = self.ready_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        last = "no answer"
        delay = 0.01
        while True:
            if not self.alive():
                raise StartError("%s exited with code %s before it was ready\n%s"
                                 % (self.name, self.returncode, self.tail()))
            try:
                r = request("GET", self.url + self.ready_path, timeout=2.0)
                if r.status == 200:
                    return
                last = "HTTP %d %r" % (r.status, r.body)
            except (OSError, http.client.HTTPException) as e:
                last = repr(e)
            if time.monotonic() >= deadline:
                raise StartError("%s not ready after %.0f s (GET %s: %s)\n%s"
                                 % (self.name, timeout, self.ready_path, last, self.tail()))
            time.sleep(delay)
            delay = min(delay * 1.5, 0.2)

    def stop(self, sig=signal.SIGTERM, timeout=DEFAULT_STOP_TIMEOUT):
        """Sends `sig` and waits for the exit; SIGKILL if it outlives `timeout`. Returns the exit
        code (negative: killed by that signal), or None if it was never started."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                sys.stderr.write("harness: %s (pid %d) still running %.0f s after signal %d; SIGKILL\n"
                                 % (self.name, self.proc.pid, timeout, sig))
                self.proc.kill()
                self.proc.wait()
        with _live_lock:
            _live.discard(self)
        self.check_sanitizer_report()
        return self.proc.returncode

    def check_sanitizer_report(self):
        """Raises SanitizerReport when stderr gained a sanitizer report since the last check."""
        try:
            with open(self.stderr_path, "rb") as f:
                f.seek(self._stderr_checked)
                text = f.read().decode("utf-8", "replace")
                self._stderr_checked = f.tell()
        except OSError:
            return
        report = sanitizer_report(text)
        if report is not None:
            raise SanitizerReport("%s (pid %d, exit code %s): sanitizer report in %s\n%s"
                                  % (self.name, self.proc.pid, self.proc.returncode,
                                     self.stderr_path, report))

    def kill9(self):
        """SIGKILL now (a crash: no drain, no cleanup). Returns the exit code (-9)."""
        return self.stop(sig=signal.SIGKILL, timeout=10.0)

    def tail(self, lines=40):
        """The last lines of stderr and stdout, for failure messages."""
        parts = []
        for label, path in (("stderr", self.stderr_path), ("stdout", self.stdout_path)):
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            body = "\n".join(text.splitlines()[-lines:]).strip()
            if any(line and not line.startswith("==== start ") for line in body.splitlines()):
                parts.append("---- %s %s (%s) ----\n%s" % (self.name, label, path, body))
        return "\n".join(parts)

    def cleanup(self):
        """Stops the process if running and removes a temp dir this object created."""
        self.stop()
        if self._owns_tmp and not KEEP_TMP:
            shutil.rmtree(self.tmp_dir, ignore_errors=True)

    def client(self, **kw):
        return Client(self.url, **kw)

    def __enter__(self):
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, *exc):
        self.cleanup()

    def __repr__(self):
        return "<%s %s pid=%s>" % (type(self).__name__, self.url, self.pid)


class MockLlm(Process):
    """`sluice mock-llm`. Options map to flags: latency="400ms" -> --latency 400ms,
    error_rate=0.03 -> --error-rate 0.03 (None is left out; True is a bare flag)."""

    name = "mock-llm"
    ready_path = "/v1/models"

    def __init__(self, latency=None, args=(), tmp_dir=None, port=None, bin=None, env=None,
                 ready_timeout=DEFAULT_READY_TIMEOUT, **options):
        super().__init__(tmp_dir=tmp_dir, port=port, bin=bin, env=env, ready_timeout=ready_timeout)
        self.options = {"latency": latency}
        self.options.update(options)
        self.extra_args = list(args)

    def argv(self):
        argv = [self.bin, "mock-llm", "--listen", "127.0.0.1:%d" % self.port]
        for key, value in self.options.items():
            if value is None or value is False:
                continue
            flag = "--" + key.replace("_", "-")
            argv += [flag] if value is True else [flag, str(value)]
        return argv + [str(a) for a in self.extra_args]

    @property
    def base_url(self):
        """The provider base_url for a config: http://127.0.0.1:<port>/v1."""
        return self.url + "/v1"

    def stats(self):
        r = request("GET", self.url + "/mock/stats")
        if r.status != 200:
            raise AssertionError("GET /mock/stats answered %r" % (r,))
        return r.body

    def received(self):
        """The chat request bodies this mock was sent (its last 1024), oldest first."""
        r = request("GET", self.url + "/mock/requests")
        if r.status != 200:
            raise AssertionError("GET /mock/requests answered %r" % (r,))
        return r.body["data"]

    def configure(self, settings):
        r = request("POST", self.url + "/mock/config", json=settings)
        if r.status != 200:
            raise AssertionError("POST /mock/config answered %r" % (r,))
        return r.body


def default_models(provider):
    """Model aliases for a test config: "fast" and "strong", both on `provider`."""
    return [
        {"alias": "fast", "provider": provider, "id": "gpt-4o-mini",
         "input_usd_per_mtok": 0.15, "output_usd_per_mtok": 0.60},
        {"alias": "strong", "provider": provider, "id": "gpt-4o",
         "input_usd_per_mtok": 2.50, "output_usd_per_mtok": 10.00},
    ]


class Server(Process):
    """`sluice serve --config <tmp>/sluice.toml`, ready when GET /readyz answers 200.

    Config, all optional (API.md "Configuration"; numbers for duration keys are milliseconds):
      mock       a MockLlm: adds provider "mock" at its base_url (timeout 10s) unless
                 `providers` is given, and models "fast"/"strong" on it unless `models` is given
      providers  [{"name", "base_url", "timeout", "max_concurrency", "rpm", "tpm", ...}]
      models     [{"alias", "provider", "id", "input_usd_per_mtok", ..., "fallback": [...]}]
                 (default: "fast"/"strong" on the mock, or on the built-in "local" provider)
      queues     [{"name", "max_concurrency", "reserved"}]
      worker     {"concurrency", "lease", "heartbeat", "poll", "retry_base", "retry_max", "grace"}
                 (default: short test timings, see TEST_WORKER)
      server     extra [server] keys (max_body, bulk_limit, durable, ...); listen and data_dir
                 are set here
      tasks_dir  default SLUICE_TASKS_DIR
      webhooks   the [webhooks] table
      tables     any other top-level tables {name: dict or list of dicts}
      args       extra command-line arguments; env: extra environment variables
    `restart()` keeps the port, data dir and config.
    """

    name = "sluice"
    ready_path = "/readyz"

    # Fast enough that lease expiry and retries happen within a test's patience.
    TEST_WORKER = {"lease": "3s", "heartbeat": "500ms", "poll": "100ms", "retry_base": "100ms",
                   "retry_max": "2s", "grace": "5s"}

    def __init__(self, mock=None, providers=None, models=None, queues=None, worker=None, server=None,
                 tasks_dir=None, webhooks=None, tables=None, args=(), tmp_dir=None, port=None,
                 bin=None, env=None, ready_timeout=DEFAULT_READY_TIMEOUT, data_dir=None):
        super().__init__(tmp_dir=tmp_dir, port=port, bin=bin, env=env, ready_timeout=ready_timeout)
        self.data_dir = Path(data_dir) if data_dir else self.tmp_dir / ("data-" + uuid.uuid4().hex[:6])
        self.config_path = self.tmp_dir / ("sluice-%d.toml" % self.port)
        if providers is None:
            providers = []
            if mock is not None:
                providers = [{"name": "mock", "base_url": mock.base_url, "timeout": "10s",
                              "max_concurrency": 256}]
        if models is None:
            models = default_models("mock" if mock is not None else "local")
        worker_table = dict(self.TEST_WORKER)
        worker_table.update(worker or {})
        self.settings = {
            "server": dict(server or {}),
            "providers": [_durations(p) for p in providers],
            "models": list(models),
            "queues": list(queues or []),
            "worker": _durations(worker_table),
            "tasks_dir": str(tasks_dir or TASKS_DIR),
            "webhooks": webhooks,
            "tables": dict(tables or {}),
        }
        self.extra_args = list(args)

    def config_document(self):
        s = self.settings
        server = {"listen": "127.0.0.1:%d" % self.port, "data_dir": str(self.data_dir)}
        server.update(_durations(s["server"]))
        doc = {"server": server, "worker": s["worker"], "tasks": {"dir": s["tasks_dir"]}}
        if s["webhooks"]:
            doc["webhooks"] = s["webhooks"]
        doc.update(s["tables"])
        doc["provider"] = s["providers"]
        doc["model"] = s["models"]
        doc["queue"] = s["queues"]
        return doc

    def config_text(self):
        return to_toml(self.config_document())

    def write_config(self):
        self.config_path = self.tmp_dir / ("sluice-%d.toml" % self.port)
        self.config_path.write_text(self.config_text(), encoding="utf-8")
        return self.config_path

    def argv(self):
        return [self.bin, "serve", "--config", self.config_path] + [str(a) for a in self.extra_args]

    def _spawn(self):
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.write_config()   # after a port change the listen address changes with it
        super()._spawn()

    def restart(self, wait_ready=True, sig=signal.SIGTERM):
        """Stops the server if it still runs (with `sig`), then starts it again on the same port
        with the same data dir and config. Returns the exit code of the stop (None if it was
        already down)."""
        code = self.stop(sig=sig) if self.alive() else None
        self._fixed_port = True   # same port: clients and webhooks keep their URLs
        self.start(wait_ready=wait_ready)
        return code

    @property
    def api(self):
        """A keep-alive Client for this server (one per Server object, for the main thread)."""
        if getattr(self, "_api", None) is None:
            self._api = Client(self.url)
        return self._api

    def metrics(self):
        r = request("GET", self.url + "/metrics")
        if r.status != 200:
            raise AssertionError("GET /metrics answered %r" % (r,))
        return parse_metrics(r.body if isinstance(r.body, str) else r.raw.decode("utf-8", "replace"))

    def stop(self, sig=signal.SIGTERM, timeout=DEFAULT_STOP_TIMEOUT):
        if getattr(self, "_api", None) is not None:
            self._api.close()
        return super().stop(sig=sig, timeout=timeout)


def _stop_all_at_exit():
    with _live_lock:
        procs = list(_live)
    for p in procs:
        try:
            if p.alive():
                p.proc.kill()
                p.proc.wait(timeout=10)
        except Exception:
            pass


atexit.register(_stop_all_at_exit)


def _interrupt_on_sigterm(signum, frame):
    # A SIGTERM (a runner's timeout, a CI cancel) ends the run like Ctrl-C does: unittest lets
    # KeyboardInterrupt through (a SystemExit would be recorded as one test's error and the run
    # would go on), and atexit then stops our processes.
    raise KeyboardInterrupt("SIGTERM")


if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
    signal.signal(signal.SIGTERM, _interrupt_on_sigterm)


# ---------------------------------------------------------------------------------------------
# API helpers.

def _base(server):
    return server.url if hasattr(server, "url") else str(server).rstrip("/")


def submit(server, body, wait=None, headers=None, timeout=10.0):
    """POST /v1/jobs (with ?wait= when given, e.g. "10s"). Returns the Response."""
    path = "/v1/jobs" + ("?wait=" + urllib.parse.quote(wait) if wait else "")
    return request("POST", _base(server) + path, json=body, headers=headers, timeout=timeout)


def submit_ok(server, body, headers=None):
    """POST /v1/jobs that must be accepted (202, or 200 when deduplicated); returns the job."""
    r = submit(server, body, headers=headers)
    if r.status not in (200, 202) or not isinstance(r.body, dict) or "id" not in r.body:
        raise AssertionError("submit answered %r" % (r,))
    return r.body


def submit_bulk(server, jobs, headers=None, timeout=60.0):
    """POST /v1/jobs/bulk; returns the Response (body {"jobs": [...]} in input order)."""
    return request("POST", _base(server) + "/v1/jobs/bulk", json={"jobs": list(jobs)},
                   headers=headers, timeout=timeout)


def classify_job(text, **fields):
    """A classify_ticket job body; extra fields (object_id, queue, priority, ...) are merged."""
    body = {"type": "classify_ticket", "input": {"text": text}}
    body.update(fields)
    return body


def get_job(server, job_id, wait=None, headers=None):
    path = "/v1/jobs/" + urllib.parse.quote(job_id) + ("?wait=" + urllib.parse.quote(wait) if wait else "")
    timeout = 10.0 + (_seconds(wait) if wait else 0.0)
    r = request("GET", _base(server) + path, headers=headers, timeout=timeout)
    if r.status != 200:
        raise AssertionError("GET %s answered %r" % (path, r))
    return r.body


def get_result(server, job_id, headers=None):
    """The result record, or None while there is none (404)."""
    r = request("GET", _base(server) + "/v1/jobs/%s/result" % urllib.parse.quote(job_id), headers=headers)
    if r.status == 404:
        return None
    if r.status != 200:
        raise AssertionError("GET result of %s answered %r" % (job_id, r))
    return r.body


def wait_job(server, job_id, statuses=SETTLED, timeout=30.0, headers=None):
    """Long-polls GET /v1/jobs/{id}?wait= until the job's status is in `statuses`; returns the
    job. Survives a server restart in between (connection errors count as "not yet")."""
    statuses = (statuses,) if isinstance(statuses, str) else tuple(statuses)
    deadline = time.monotonic() + timeout
    last = {}

    def reached():
        left = max(0.0, deadline - time.monotonic())
        wait = "%dms" % max(1, int(min(left, 5.0) * 1000)) if not set(statuses) - set(SETTLED) else None
        job = get_job(server, job_id, wait=wait, headers=headers)
        last["job"] = job
        return job if job.get("status") in statuses else None

    return wait_until(reached, timeout=timeout,
                      message=lambda: "job %s to reach %s (last status %s)"
                      % (job_id, "/".join(statuses), last.get("job", {}).get("status")))


def _seconds(duration):
    """'250ms' / '30s' / '2m' / '1h' -> seconds."""
    d = str(duration).strip()
    for suffix, scale in (("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)):
        if d.endswith(suffix):
            return float(d[:-len(suffix)]) * scale
    return float(d)


# ---------------------------------------------------------------------------------------------
# The test base class.

class IntegrationTest(unittest.TestCase):
    """A TestCase whose processes are stopped when the test ends, however it ends.

    self.tmp_dir is a fresh directory per test; start_mock()/start_server() create processes
    in it and register their cleanup. Processes made by hand can be handed to track(). When the
    test fails or errors, the tails of every tracked process's logs are printed to stderr and
    the temp dir is kept.
    """

    def setUp(self):
        super().setUp()
        self.tmp_dir = Path(tempfile.mkdtemp(prefix="sluice-it-%s-" % self._testMethodName[:40]))
        self._procs = []

    def track(self, proc):
        """Stops `proc` at the end of this test; includes its logs in a failure report."""
        self._procs.append(proc)
        self.addCleanup(proc.stop)
        return proc

    def start_mock(self, **kw):
        kw.setdefault("tmp_dir", self.tmp_dir)
        mock = self.track(MockLlm(**kw))
        mock.start()
        return mock

    def start_server(self, **kw):
        kw.setdefault("tmp_dir", self.tmp_dir)
        server = self.track(Server(**kw))
        server.start()
        return server

    def run(self, result=None):
        if result is None:
            # unittest's own default path: let it make and close the result.
            return super().run(result)
        before = len(result.failures) + len(result.errors)
        try:
            return super().run(result)
        finally:
            # Cleanups (process stops) have run; the log files are still on disk.
            failed = len(result.failures) + len(result.errors) > before
            tmp = getattr(self, "tmp_dir", None)
            if failed:
                for proc in getattr(self, "_procs", []):
                    report = proc.tail()
                    if report:
                        sys.stderr.write("\n%s\n" % report)
                if tmp is not None:
                    sys.stderr.write("harness: kept %s\n" % tmp)
            elif tmp is not None and not KEEP_TMP:
                shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Self-test: `python3 tests/integration/harness.py` checks the pieces that need no real server.
# With demo/fake_sluice.py present, it also drives the process classes against that stand-in.

class SharedProcessesTest(IntegrationTest):
    """Processes shared by every test of a class (started once, in `start_class_processes`), for
    suites whose tests do not interfere. Their logs are printed when any test fails, and the
    class's temp dir is kept then."""

    @classmethod
    def start_class_processes(cls):
        """Override: start what the class shares with `cls.start_class_proc(...)`."""

    @classmethod
    def start_class_proc(cls, proc):
        cls.class_procs.append(proc)
        proc.start()
        return proc

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.class_tmp = Path(tempfile.mkdtemp(prefix="sluice-it-%s-" % cls.__name__))
        cls.class_failed = False
        cls.class_procs = []
        try:
            cls.start_class_processes()
        except BaseException:
            cls._stop_class_procs()
            raise

    @classmethod
    def _stop_class_procs(cls):
        # Every one is stopped even when one's stop raises (a sanitizer report); the first
        # error is raised after, and the class's temp dir is kept.
        first = None
        for proc in reversed(cls.class_procs):
            try:
                proc.stop()
            except SanitizerReport as e:
                cls.class_failed = True
                first = first or e
        if first is not None:
            raise first

    @classmethod
    def tearDownClass(cls):
        try:
            cls._stop_class_procs()
        finally:
            if cls.class_failed or KEEP_TMP:
                print("harness: kept %s" % cls.class_tmp)
            else:
                shutil.rmtree(cls.class_tmp, ignore_errors=True)
            super().tearDownClass()

    def setUp(self):
        super().setUp()
        self._procs.extend(self.class_procs)   # their log tails are printed when a test fails

    def run(self, result=None):
        if result is None:
            return super().run(result)
        before = len(result.failures) + len(result.errors)
        try:
            return super().run(result)
        finally:
            if len(result.failures) + len(result.errors) > before:
                type(self).class_failed = True


class _HarnessSelfTest(unittest.TestCase):
    def test_free_port_is_bindable(self):
        port = free_port()
        self.assertTrue(1024 <= port <= 65535)
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))

    def test_wait_until_returns_the_value_and_times_out(self):
        calls = []

        def third_time():
            calls.append(1)
            if len(calls) == 1:
                raise ConnectionRefusedError("not yet")
            return len(calls) >= 3 and "ready"

        self.assertEqual(wait_until(third_time, timeout=5, interval=0.001), "ready")
        self.assertEqual(len(calls), 3)
        with self.assertRaises(WaitTimeout) as cm:
            wait_until(lambda: 0, timeout=0.05, message="nothing")
        self.assertIn("nothing", str(cm.exception))
        with self.assertRaises(KeyError):   # not an ignored type: propagates at once
            wait_until(lambda: {}["x"], timeout=5)

    def test_toml_writer_round_trips(self):
        import tomllib
        doc = {"server": {"listen": "127.0.0.1:1", "data_dir": 'C:\\odd "dir"', "durable": False,
                          "max_body": 1024, "skip": None},
               "provider": [{"name": "p", "base_url": "http://x/v1", "headers": {"X-Key": "v"}}],
               "model": [{"alias": "fast", "provider": "p", "fallback": ["strong"],
                          "params": {"temperature": 0.5}, "input_usd_per_mtok": 0.15}],
               "queue": []}
        parsed = tomllib.loads(to_toml(doc))
        self.assertEqual(parsed["server"], {"listen": "127.0.0.1:1", "data_dir": 'C:\\odd "dir"',
                                            "durable": False, "max_body": 1024})
        self.assertEqual(parsed["provider"], doc["provider"])
        self.assertEqual(parsed["model"], doc["model"])
        self.assertNotIn("queue", parsed)

    def test_server_config_from_keywords(self):
        import tomllib
        mock = MockLlm(latency="10ms", tmp_dir=tempfile.mkdtemp(prefix="sluice-it-self-"))
        self.addCleanup(shutil.rmtree, mock.tmp_dir, True)
        s = Server(mock=mock, queues=[{"name": "urgent", "max_concurrency": 16, "reserved": 4}],
                   worker={"concurrency": 64, "lease": 2000, "heartbeat": "250ms"},
                   server={"bulk_limit": 500, "max_wait": 5000}, tmp_dir=mock.tmp_dir,
                   tables={"webhooks": {"allow_hosts": ["127.0.0.1"]}})
        c = tomllib.loads(s.config_text())
        self.assertEqual(c["server"]["listen"], "127.0.0.1:%d" % s.port)
        self.assertEqual(c["server"]["data_dir"], str(s.data_dir))
        self.assertEqual((c["server"]["bulk_limit"], c["server"]["max_wait"]), (500, "5000ms"))
        self.assertEqual(c["provider"], [{"name": "mock", "base_url": mock.base_url, "timeout": "10s",
                                          "max_concurrency": 256}])
        self.assertEqual([m["alias"] for m in c["model"]], ["fast", "strong"])
        self.assertTrue(all(m["provider"] == "mock" for m in c["model"]))
        self.assertEqual(c["queue"], [{"name": "urgent", "max_concurrency": 16, "reserved": 4}])
        self.assertEqual(c["worker"]["concurrency"], 64)
        self.assertEqual(c["worker"]["lease"], "2000ms")
        self.assertEqual(c["worker"]["heartbeat"], "250ms")
        self.assertEqual(c["worker"]["poll"], Server.TEST_WORKER["poll"])
        self.assertEqual(c["tasks"]["dir"], TASKS_DIR)
        self.assertEqual(c["webhooks"], {"allow_hosts": ["127.0.0.1"]})
        local = tomllib.loads(Server(tmp_dir=mock.tmp_dir).config_text())
        self.assertNotIn("provider", local)
        self.assertTrue(all(m["provider"] == "local" for m in local["model"]))

    def test_mock_argv(self):
        m = MockLlm(latency="400ms", jitter="300ms", error_rate=0.03, rate_429=0.02, seed=7,
                    garbage=True, quiet=False, args=["--x", "1"], bin="/b/sluice", port=4242, tmp_dir="/tmp")
        self.assertEqual(m.argv(), ["/b/sluice", "mock-llm", "--listen", "127.0.0.1:4242", "--latency", "400ms",
                                    "--jitter", "300ms", "--error-rate", "0.03", "--rate-429", "0.02",
                                    "--seed", "7", "--garbage", "--x", "1"])

    def test_metrics_parsing(self):
        m = parse_metrics('# TYPE x gauge\nsluice_jobs{queue="a",status="done"} 3\n'
                          'sluice_jobs{queue="b",status="done"} 4\nsluice_jobs{queue="b",status="failed"} 1\n')
        self.assertEqual(metric_sum(m, "sluice_jobs", status="done"), 7)
        self.assertEqual(metric_sum(m, "sluice_jobs", queue="b"), 5)
        self.assertIsNone(metric_sum(m, "nope"))

    def test_multipart(self):
        body, ctype = multipart({"purpose": "batch"}, {"file": ("in.jsonl", b"{}\n", "application/jsonl")})
        boundary = ctype.split("boundary=")[1]
        self.assertTrue(body.startswith(("--" + boundary).encode()))
        self.assertIn(b'name="purpose"\r\n\r\nbatch\r\n', body)
        self.assertIn(b'filename="in.jsonl"', body)
        self.assertTrue(body.endswith(("--%s--\r\n" % boundary).encode()))

    def test_start_failure_reports_stderr(self):
        tmp = tempfile.mkdtemp(prefix="sluice-it-self-")
        self.addCleanup(shutil.rmtree, tmp, True)
        script = Path(tmp) / "broken"
        script.write_text("#!/bin/sh\necho 'config: unknown key foo' >&2\nexit 3\n")
        script.chmod(0o755)
        s = Server(bin=script, tmp_dir=tmp)
        with self.assertRaises(StartError) as cm:
            s.start()
        self.assertIn("unknown key foo", str(cm.exception))
        self.assertEqual(s.starts, 3)   # retried on new ports: it died before ready
        self.assertFalse(s.alive())
        with self.assertRaises(StartError):
            Server(bin=Path(tmp) / "missing", tmp_dir=tmp).start()

    def test_a_sanitizer_report_fails_the_stop(self):
        tmp = tempfile.mkdtemp(prefix="sluice-it-self-")
        self.addCleanup(shutil.rmtree, tmp, True)
        reports = {
            "asan": "==41==ERROR: AddressSanitizer: heap-use-after-free on address 0x6020",
            "lsan": "==41==ERROR: LeakSanitizer: detected memory leaks",
            "ubsan": "src/core/x.cc:12:7: runtime error: signed integer overflow",
            "tsan": "WARNING: ThreadSanitizer: data race (pid=41)",
        }
        for kind, line in dict(reports, clean="runtime_error: not a report").items():
            script = Path(tmp) / kind
            script.write_text("#!/bin/sh\necho 'starting' >&2\necho '%s' >&2\nexit 0\n" % line)
            script.chmod(0o755)
            p = MockLlm(bin=script, tmp_dir=tmp)
            p.start(wait_ready=False)
            p.proc.wait()
            if kind == "clean":
                self.assertEqual(p.stop(), 0)
                continue
            with self.assertRaises(SanitizerReport) as cm:
                p.stop()
            self.assertIn(line, str(cm.exception))
            self.assertNotIn("starting", str(cm.exception))
            self.assertEqual(p.stop(), 0)   # reported once; a later stop has nothing new


FAKE = REPO / "demo" / "fake_sluice.py"


@unittest.skipUnless(FAKE.exists(), "demo/fake_sluice.py not present")
class _HarnessAgainstFake(IntegrationTest):
    """The process classes against demo/fake_sluice.py, a stand-in for the binary."""

    def test_mock_and_server_lifecycle(self):
        mock = self.start_mock(bin=FAKE, latency="5ms")
        self.assertEqual(mock.stats()["requests"], 0)
        self.assertEqual(mock.configure({"error_rate": 0.5})["error_rate"], 0.5)
        server = self.start_server(bin=FAKE, mock=mock,
                                   queues=[{"name": "urgent", "max_concurrency": 4, "reserved": 1}])
        job = submit_ok(server, classify_job("I was charged twice", object_id="T-1", queue="urgent"))
        again = submit(server, classify_job("I was charged twice", object_id="T-1", queue="urgent"))
        self.assertEqual((again.status, again.body["id"], again.body["deduplicated"]), (200, job["id"], True))
        done = wait_job(server, job["id"])
        self.assertIn(done["status"], SETTLED)
        self.assertEqual(metric_sum(server.metrics(), "sluice_jobs", status=done["status"]), 1)
        status, headers, body = server.api.get("/v1/jobs/" + job["id"])
        self.assertEqual((status, body["id"]), (200, job["id"]))
        self.assertIn("json", headers["content-type"])
        bad = server.api.post("/v1/jobs", json={"type": "classify_ticket"})
        self.assertEqual((bad.status, bad.error_code), (400, "invalid"))

        # A clean stop, then a restart on the same port with the same data dir.
        port, data_dir = server.port, server.data_dir
        self.assertEqual(server.stop(), 0)
        self.assertFalse(server.alive())
        self.assertIsNone(server.restart())
        self.assertEqual((server.port, server.data_dir), (port, data_dir))
        self.assertEqual(get_job(server, job["id"])["status"], done["status"])   # the fake saved it

        # A crash: SIGKILL, and the port is usable again after restart.
        self.assertEqual(server.kill9(), -signal.SIGKILL)
        with self.assertRaises(OSError):
            request("GET", server.url + "/healthz", timeout=2)
        server.restart()
        self.assertEqual(request("GET", server.url + "/readyz").status, 200)
        self.assertEqual(server.starts, 3)

    def test_keep_alive_client_survives_a_server_restart(self):
        server = self.start_server(bin=FAKE)
        with server.client() as c:
            self.assertEqual(c.get("/healthz").status, 200)
            server.restart()
            self.assertEqual(c.get("/healthz").status, 200)   # the stale connection is replaced


def _self_test():
    loader = unittest.defaultTestLoader
    suite = unittest.TestSuite([loader.loadTestsFromTestCase(_HarnessSelfTest),
                                loader.loadTestsFromTestCase(_HarnessAgainstFake)])
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(_self_test())
