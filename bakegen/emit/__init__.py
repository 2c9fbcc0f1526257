"""Emit stage: the Jinja set-up, the Dockerfiles, the bake model and its HCL or JSON text, all in
memory."""
