"""Validate stage: the manifest's JSON Schema, its compiled check, and schema errors as problems."""
