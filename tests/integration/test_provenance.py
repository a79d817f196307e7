"""Integration test of the result record's provenance (API.md "The result record"): `params` is
what the provider was sent, against a real `sluice serve` and `sluice mock-llm`.

The effective params are the task version's (classify_ticket: temperature 0, max_tokens 200),
the alias's [[model]] params under them (a request's own keys win, as the gateway merges them)
and the job's `params` on top.

Run: SLUICE_BIN=build/sluice SLUICE_TASKS_DIR=tasks python3 -m unittest -v test_provenance
"""

import unittest

import harness
from harness import classify_job, get_result, submit_ok, wait_job


class ProvenanceTest(harness.IntegrationTest):
    def test_the_result_and_its_attempts_record_the_params_sent(self):
        mock = self.start_mock(latency="5ms")
        models = harness.default_models("mock")
        models[0]["params"] = {"temperature": 1, "top_p": 0.5}   # "fast": defaults under the request's
        server = self.start_server(mock=mock, models=models)
        cases = [
            # (job params, expected result params)
            (None, {"temperature": 0, "max_tokens": 200, "top_p": 0.5}),
            ({"max_tokens": 100, "seed": 7}, {"temperature": 0, "max_tokens": 100, "top_p": 0.5, "seed": 7}),
            ({"temperature": 0.7, "top_p": 0.9}, {"temperature": 0.7, "max_tokens": 200, "top_p": 0.9}),
        ]
        for params, expected in cases:
            with self.subTest(params=params):
                fields = {"model": "fast"}
                if params is not None:
                    fields["params"] = params
                job = submit_ok(server, classify_job("I was charged twice for one purchase.", **fields))
                done = wait_job(server, job["id"])
                self.assertEqual(done["status"], "done", done)
                result = get_result(server, job["id"])
                self.assertEqual(result["params"], expected, result)
                self.assertEqual([a["params"] for a in result["attempts"]], [expected], result)
                # The job object still shows the job's own overrides, as submitted.
                self.assertEqual(done["params"], params or {}, done)


if __name__ == "__main__":
    unittest.main()
