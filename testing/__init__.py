"""Helpers the tests share (not shipped: the wheel holds bakegen only)."""
