"""One module per command, each with `run(io, ...) -> int`: `io` (output.Streams) first, then
the workspace folder and manifest path for the commands that read one, then the command's
options by keyword; it returns the exit code. A failure raises a `BakegenError`, which the
boundary (boundary.py) turns into its lines and exit code. cli.py wires typer to these; the
fast entry (entry.py) calls `render.run` and `version.run` itself. `options` declares the
options shared by both readers; `typer_options` declares them to typer."""
