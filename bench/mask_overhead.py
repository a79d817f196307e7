#!/usr/bin/env python3
"""What PII masking costs end to end (issue "Privacy, audit and costs": masking < 5 % of
end-to-end throughput when on, DESIGN.md).

Each run starts two servers in turn on the same binary, each with a fresh durable embedded
store and the in-process `local` model, and bulk-submits the same --jobs chat jobs (1000 per
request, --clients connections) while the workers run; the rate is jobs from the first bulk
request to the moment /metrics shows them all done:
  off  the jobs as they are;
  on   the same jobs with "mask_pii": true: each message is masked before the call, and the
       answer unmasked into the result.
The ticket text (made here) is a few sentences in English and Russian holding an email, a phone
number, a Luhn-valid card and a checksum-invalid order number. Runs alternate off, on, off,
on, ...; medians and the on/off ratio per run. Everything stays on 127.0.0.1.
"""
import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import inflight  # noqa: E402,F401  (puts tests/integration on the path for harness)
import scenarios  # noqa: E402
import harness  # noqa: E402

TEXT = ("Hello, I was charged twice for one purchase yesterday. Please write to anna.k@mail.example.kz "
        "or call +7 701 234 56 78. The card is 4111 1111 1111 1111, order 4111 1111 1111 1112. "
        "Здравствуйте, деньги списали дважды, верните, пожалуйста, второй платёж.")


def bodies(n, mask):
    out = []
    for start in range(0, n, 1000):
        jobs = [{"type": "chat", "mask_pii": mask,
                 "request": {"model": "local", "messages": [{"role": "user", "content": "%s (#%d)" % (TEXT, i)}]}}
                for i in range(start, min(n, start + 1000))]
        out.append(json.dumps({"jobs": jobs}).encode())
    return out


def one(opts, tmp, mask):
    body = bodies(opts.jobs, mask)
    with scenarios.sluice_server(opts, tmp, concurrency=opts.concurrency) as s:
        rate = scenarios.bulk_end_to_end(s, body, opts.clients, opts.jobs)
        if mask:   # the jobs really were masked: a result counts what was replaced
            page = harness.request("GET", s.url + "/v1/jobs?limit=1").body["data"][0]
            result = harness.request("GET", s.url + "/v1/jobs/%s/result" % page["id"]).body
            assert result["pii"]["masked"] == {"EMAIL": 1, "PHONE": 1, "CARD": 1}, result
        return rate


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=str(BENCH.parent / "build-release" / "sluice"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=50000)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--concurrency", type=int, default=1024)
    opts = ap.parse_args()
    opts.bin = str(Path(opts.bin).resolve())
    root = Path(tempfile.mkdtemp(prefix="sluice-bench-mask-"))
    rates = {"off": [], "on": []}
    for i in range(opts.runs):
        for mode in ("off", "on"):
            r = one(opts, root / ("%s-%d" % (mode, i)), mode == "on")
            rates[mode].append(r)
            print("run %d mask %-3s: %8.0f jobs/s end to end" % (i + 1, mode, r), flush=True)
    off, on = statistics.median(rates["off"]), statistics.median(rates["on"])
    ratios = ", ".join("%.3f" % (b / a) for a, b in zip(rates["off"], rates["on"]))
    print("median jobs/s  off %.0f  on %.0f  on/off %.3f  (per run: %s)" % (off, on, on / off, ratios))


if __name__ == "__main__":
    main()
