"""Job bodies shared by the benchmarks, and posting them."""
import json


def bulk_bodies(n, tag, per_request, **timing):
    """Pre-encoded POST /v1/jobs/bulk bodies of `n` classify_ticket jobs, so the client's JSON
    work is off the clock. `timing` adds fields to every job (run_at=..., run_in=...); None
    values are left out."""
    timing = {k: v for k, v in timing.items() if v is not None}
    bodies = []
    for start in range(0, n, per_request):
        jobs = [dict({"type": "classify_ticket",
                      "input": {"text": "I was charged twice for one purchase, ticket %s-%d" % (tag, i)}},
                     **timing)
                for i in range(start, min(n, start + per_request))]
        bodies.append(json.dumps({"jobs": jobs}).encode())
    return bodies


def post_bulk(conn, body):
    """POSTs one bulk body on `conn` (an http.client connection). Returns None when every job was
    accepted, else a short description of what went wrong."""
    conn.request("POST", "/v1/jobs/bulk", body=body, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    raw = resp.read()
    if resp.status != 200:
        return "HTTP %d %s" % (resp.status, raw[:200])
    bad = [j for j in json.loads(raw)["jobs"] if "error" in j]
    if bad:
        return "%d items rejected, e.g. %s" % (len(bad), bad[0])
    return None
