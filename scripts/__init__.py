"""Scripts of the repository: installers, the test runner, and the README generator."""
