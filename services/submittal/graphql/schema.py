"""The submittal subgraph schema."""

from __future__ import annotations

import strawberry
from strawberry.tools import merge_types

from common.graphql import federation_schema
from common.graphql_lists import FlatListsExecutionContext
from common.graphql_live import AudienceExecutor
from services.submittal.graphql.facility import Facility
from services.submittal.graphql.mutations import Mutation
from services.submittal.graphql.queries import Query
from services.submittal.graphql.search import SearchQuery
from services.submittal.graphql.subscriptions import Subscription
from services.submittal.graphql.types import SubmittalElement, User


class SubmittalExecution(AudienceExecutor, FlatListsExecutionContext):
    """A live event executes once per audience (AudienceExecutor); a search page's hundreds
    of materials, lists of plain fields, complete in one loop (FlatListsExecutionContext)."""


schema: strawberry.federation.Schema = federation_schema(
    query=merge_types("Query", (Query, SearchQuery)), mutation=Mutation,
    subscription=Subscription,
    types=[Facility, SubmittalElement, User],
    execution_context_class=SubmittalExecution,
)
