"""Smoke tests of the example site (its account page, demo data, the Stripe demo, its
production settings, and the browser tests that take the docs' screenshots of it).

The package's own suite is in the repository's tests/ and does not use this site. Run these
from the repository root with ``python -m pytest example_project/tests`` (pytest.ini here).
"""
