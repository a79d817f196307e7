"""Blobs are per tenant (API.md "Large inputs", "Isolation") in a real `sluice serve` with API
keys: another tenant's blob id answers 404 as an unknown one, even for the very same bytes, and
a job cannot name it; each tenant that uploads the bytes gets a blob of its own.
"""

import unittest

import harness

ADMIN_KEY = "sk-admin-blob-isolation-test"


class BlobIsolationTest(harness.IntegrationTest):
    def admin(self, server, path, body):
        r = harness.request("POST", server.url + path, json=body,
                            headers={"Authorization": "Bearer " + ADMIN_KEY})
        self.assertIn(r.status, (200, 201), r)
        return r.body

    def key_of(self, server, tenant):
        self.admin(server, "/v1/admin/tenants", {"id": tenant})
        secret = self.admin(server, "/v1/admin/keys", {"tenant": tenant, "name": "test"})["key"]
        return {"Authorization": "Bearer " + secret}

    def test_another_tenants_blob_is_no_blob(self):
        server = self.start_server(env={"SLUICE_ADMIN_KEY": ADMIN_KEY})
        acme, globex = self.key_of(server, "acme"), self.key_of(server, "globex")
        content = b"I was charged twice for the same purchase"

        def put(headers):
            h = dict(headers, **{"Content-Type": "application/octet-stream"})
            return harness.request("POST", server.url + "/v1/blobs", data=content, headers=h)

        def get(blob_id, headers):
            return harness.request("GET", server.url + "/v1/blobs/" + blob_id, headers=headers)

        first = put(acme)
        self.assertEqual(first.status, 201, first)
        blob_id = first.body["id"]
        self.assertEqual(get(blob_id, acme).status, 200)

        # To globex the id is unknown: 404 on read, 400 (no such blob) when a job names it.
        self.assertEqual(get(blob_id, globex).error_code, "not_found")
        job = harness.submit(server, {"type": "classify_ticket", "input": {"blob": blob_id}},
                             headers=globex)
        self.assertEqual(job.status, 400, job)
        self.assertEqual(job.body["error"]["field"], "input.blob")

        # The same bytes from globex make globex's own blob (created, not found).
        second = put(globex)
        self.assertEqual(second.status, 201, second)
        self.assertEqual(second.body["id"], blob_id)
        for headers in (acme, globex):
            ok = harness.submit_ok(server, {"type": "classify_ticket", "input": {"blob": blob_id}},
                                   headers=headers)
            done = harness.wait_job(server, ok["id"], headers=headers)
            self.assertEqual(done["status"], "done", done)


if __name__ == "__main__":
    unittest.main()
