"""The local embedded stack: the real Lambda handlers served in-process over moto (or LocalStack)."""
