"""Opaque identifiers: random, URL-safe, never sequential."""
import uuid


def new_id() -> str:
    return uuid.uuid4().hex
