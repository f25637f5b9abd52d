"""Plain rules of the facility service: no database, no GraphQL."""
