"""bakegen: compile an image-matrix manifest into Dockerfiles and one bake file."""

__version__ = "0.1.0"
