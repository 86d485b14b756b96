"""The app's test and measurement harness: serve `rag app`, drive it in headless Chromium.

Used by tests/app/test_browser.py and by `python -m tests.app.harness.probe` (run from a
source checkout); `rag app` itself never imports it, so it is not shipped in the package.
"""
