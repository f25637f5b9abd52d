"""A federated GraphQL gateway (Apollo Federation 2) written in Python."""
