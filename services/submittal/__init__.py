"""The submittal service: what businesses report about a facility and what regulators decide."""
