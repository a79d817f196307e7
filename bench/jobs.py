"""Job bodies shared by the benchmarks."""
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
