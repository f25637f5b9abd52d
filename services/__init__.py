"""The three services. None imports another."""
