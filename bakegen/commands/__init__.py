"""Commands beyond rendering, as plain functions returning an exit code."""
