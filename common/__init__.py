"""The small shared platform library. It imports no service."""
