"""Fake venues on 127.0.0.1 for the live tests (filled in below)."""
