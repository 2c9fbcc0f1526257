"""Check stage: every semantic rule, one module per thing checked (manifest, packages, tag formats,
templates, plan, rendered outputs)."""
