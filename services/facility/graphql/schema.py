"""The facility subgraph schema."""

from __future__ import annotations

import strawberry

from common.graphql import federation_schema
from services.facility.graphql.entities import Facility, Organization, RegulatorAgency, User
from services.facility.graphql.mutations import BusinessMutations
from services.facility.graphql.people import PeopleMutations
from services.facility.graphql.queries import Query
from services.facility.graphql.regulators import RegulatorMutations
from services.facility.graphql.subscriptions import Subscription


@strawberry.type
class Mutation(BusinessMutations, PeopleMutations, RegulatorMutations):
    pass


schema = federation_schema(
    query=Query, mutation=Mutation, subscription=Subscription,
    types=[Facility, Organization, RegulatorAgency, User],
)
