"""Instructor tooling: release exercises and grade submissions (see pipeline.py for the steps)."""
