"""strata's conformance suite: checks of Docker's behaviour, run against any implementation."""
import pytest

# helpers that assert on behalf of checks: let pytest rewrite their asserts
pytest.register_assert_rewrite("conformance.fixtures", "conformance.cli", "conformance.messages")
