#!/usr/bin/env python3
"""What the access log costs on the submit path (issue "A new user's first hour": one log line
per request at info, measured).

Each run starts two servers in turn on the same binary, each with a fresh durable embedded
store, jobs submitted with run_in=1h (so only the submit path is measured):
  warn  `--log-level warn`: no access log (ServerOptions::access_log unset, nothing recorded);
  info  `--log-level info` (the default): one line per request, written by the logging thread
        to stderr, which goes to a file as it would under systemd or docker.
Figures as bench/auth_overhead.py measures them (bench/loadgen: closed loop, then an open loop
at --rate), runs alternating warn, info, warn, info, ...; medians and the info/warn ratio per
run. Add `--format json` to measure the JSON lines. Everything stays on 127.0.0.1.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import auth_overhead  # noqa: E402
import harness  # noqa: E402  (auth_overhead puts tests/integration on the path)


def one(opts, tmp, level, log_format):
    s = harness.Server(bin=opts.bin, tmp_dir=tmp, worker={"concurrency": 64, "lease": "30s"},
                       args=["--log-level", level, "--log-format", log_format]).start()
    try:
        return auth_overhead.measure(opts, s, tmp)
    finally:
        s.cleanup()


def main():
    opts = auth_overhead.arguments(
        __doc__, lambda ap: ap.add_argument("--format", default="text", choices=("text", "json")))
    auth_overhead.compare(opts, ("warn", "info"), lambda o, tmp, level: one(o, tmp, level, o.format),
                          "log-" + opts.format)


if __name__ == "__main__":
    main()
