"""The harness's own checks (config writing, process control against a stand-in binary), so a
broken harness fails loudly instead of making other tests pass or fail for the wrong reason."""
import unittest

from harness import _HarnessAgainstFake, _HarnessSelfTest  # noqa: F401  (collected by unittest)

if __name__ == "__main__":
    unittest.main()
