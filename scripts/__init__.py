"""Scripts of the repository: installers, the test runner, and the documentation generator (reference.py)."""
