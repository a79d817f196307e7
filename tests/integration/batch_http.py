"""Plain-HTTP helpers for the Files and Batch API (API.md "Files and batches"), for tests that
need no OpenAI SDK: upload a JSONL file, create a batch, wait for it, read its files."""

import json

import harness
from harness import wait_until

CHAT = "/v1/chat/completions"
FINAL = ("completed", "failed", "expired", "cancelled")


def chat_line(custom_id, content="Hello", model="fast"):
    return {"custom_id": custom_id, "method": "POST", "url": CHAT,
            "body": {"model": model, "messages": [{"role": "user", "content": content}]}}


def jsonl(lines):
    return "".join(json.dumps(l) + "\n" for l in lines)


def upload(server, lines, timeout=120.0, headers=None):
    """POST /v1/files (purpose batch) with `lines` as JSONL; returns the file object."""
    body, ctype = harness.multipart(fields={"purpose": "batch"},
                                    files={"file": ("input.jsonl", jsonl(lines), "application/jsonl")})
    r = harness.request("POST", server.url + "/v1/files", data=body,
                        headers=dict(headers or {}, **{"Content-Type": ctype}), timeout=timeout)
    if r.status != 200:
        raise AssertionError("upload answered %r" % (r,))
    return r.body


def create_batch(server, file_id, window="24h", headers=None, **extra):
    """POST /v1/batches; returns the Response (the batch object on 200)."""
    body = dict({"input_file_id": file_id, "endpoint": CHAT, "completion_window": window}, **extra)
    return harness.request("POST", server.url + "/v1/batches", json=body, headers=headers)


def get_batch(server, batch_id, headers=None):
    r = harness.request("GET", server.url + "/v1/batches/" + batch_id, headers=headers)
    if r.status != 200:
        raise AssertionError("GET batch %s answered %r" % (batch_id, r))
    return r.body


def wait_batch(server, batch_id, statuses=FINAL, timeout=120.0, headers=None):
    def reached():
        b = get_batch(server, batch_id, headers=headers)
        return b if b["status"] in statuses else None
    return wait_until(reached, timeout=timeout, interval=0.1,
                      message="batch %s to reach %s" % (batch_id, "/".join(statuses)))


def file_lines(server, file_id, timeout=120.0, headers=None):
    """The JSON lines of a batch's output or error file (none for a null id)."""
    if not file_id:
        return []
    r = harness.request("GET", server.url + "/v1/files/%s/content" % file_id, timeout=timeout,
                        headers=headers)
    if r.status != 200:
        raise AssertionError("GET content of %s answered %s" % (file_id, r.status))
    text = r.raw.decode("utf-8")
    return [json.loads(l) for l in text.splitlines() if l.strip()]
