"""bakegen ci github: the GitHub Actions workflow, its jobs and steps."""
