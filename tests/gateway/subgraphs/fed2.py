"""Subgraph sets for the harder parts of the Federation 2 model (issue 14), one per feature.

Each resolver answers from small in-memory data and fails loudly when the gateway sends a
representation without the fields the subgraph declared it needs, so a wrong plan shows up
as an error, not as a plausible answer.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.federation.schema_directives import Key

from tests.gateway.subgraphs.features import schema

ID = strawberry.ID


def _need(value: Any, what: str) -> Any:
    if value is None:
        raise ValueError(f"{what} was not sent with the representation")
    return value


# --- @requires: inline fragments on an interface-typed field, @inaccessible required fields,
# --- required fields with arguments (the same field twice with different arguments) ---------

GOODS = {
    "g1": ("Kayak", {"__typename": "Dimensions", "unit": "cm", "width": 80.0, "height": 40.0},
           "K-1", 100.0),
    "g2": ("Paddle", {"__typename": "Weight", "unit": "g", "grams": 900}, "P-2", 20.0),
}
RATES = {"USD": 1.0, "EUR": 0.9, "GBP": 0.8}


@strawberry.interface
class Spec:
    unit: str


@strawberry.type
class Dimensions(Spec):
    width: float
    height: float


@strawberry.type
class Weight(Spec):
    grams: int


def _spec(data: dict[str, Any]) -> Spec:
    if data["__typename"] == "Dimensions":
        return Dimensions(unit=data["unit"], width=data["width"], height=data["height"])
    return Weight(unit=data["unit"], grams=data["grams"])


@strawberry.federation.type(keys=["id"], name="Product")
class RaProduct:
    id: ID
    name: str
    code: str = strawberry.federation.field(inaccessible=True)

    @strawberry.field
    def specs(self) -> Spec:
        return _spec(GOODS[self.id][1])

    @strawberry.field
    def price(self, currency: str) -> float:
        return round(GOODS[self.id][3] * RATES[currency], 2)

    @classmethod
    def resolve_reference(cls, id: ID, **_: Any) -> RaProduct:
        return RaProduct(id=id, name=GOODS[id][0], code=GOODS[id][2])


@strawberry.type
class RaQuery:
    @strawberry.field
    def products(self) -> list[RaProduct]:
        return [RaProduct.resolve_reference(ID(i)) for i in GOODS]


@strawberry.federation.interface(name="Spec")
class RbSpec:
    unit: str = strawberry.federation.field(external=True)


@strawberry.federation.type(name="Dimensions")
class RbDimensions(RbSpec):
    width: float = strawberry.federation.field(external=True)
    height: float = strawberry.federation.field(external=True)


@strawberry.federation.type(name="Weight")
class RbWeight(RbSpec):
    grams: int = strawberry.federation.field(external=True)


@strawberry.federation.type(keys=["id"], name="Product")
class RbProduct:
    id: ID
    specs_data: strawberry.Private[dict[str, Any] | None]
    code_data: strawberry.Private[str | None]
    price_data: strawberry.Private[float | None]

    @strawberry.federation.field(external=True)
    def specs(self) -> RbSpec:
        raise ValueError("specs is external here")

    @strawberry.federation.field(external=True)
    def code(self) -> str:
        raise ValueError("code is external here")

    @strawberry.federation.field(external=True)
    def price(self, currency: str) -> float:
        raise ValueError("price is external here")

    @strawberry.federation.field(
        requires=["specs { unit ... on Dimensions { width height } ... on Weight { grams } }"]
    )
    def shipping_class(self) -> str:
        specs = _need(self.specs_data, "specs")
        if "width" in specs:
            return f"box {specs['width']:g}x{specs['height']:g}{specs['unit']}"
        return f"parcel {_need(specs.get('grams'), 'specs.grams')}{specs['unit']}"

    @strawberry.federation.field(requires=["code"])
    def code_label(self) -> str:
        return f"code {_need(self.code_data, 'code')}"

    @strawberry.federation.field(requires=['price(currency: "USD")'])
    def usd_label(self) -> str:
        return f"{_need(self.price_data, 'price'):.2f} USD"

    @strawberry.federation.field(requires=['price(currency: "EUR")'])
    def eur_label(self) -> str:
        return f"{_need(self.price_data, 'price'):.2f} EUR"

    @classmethod
    def resolve_reference(cls, id: ID, specs: dict[str, Any] | None = None,
                          code: str | None = None, price: float | None = None,
                          **_: Any) -> RbProduct:
        return RbProduct(id=id, specs_data=specs, code_data=code, price_data=price)


@strawberry.type
class RbQuery:
    @strawberry.field
    def shipping_version(self) -> str:
        return "1"


REQUIRES_ADVANCED = {
    "catalog": schema(RaQuery, types=[Dimensions, Weight]),
    "shipping": schema(RbQuery, types=[RbProduct, RbDimensions, RbWeight]),
}

# --- @requires chains that go back and forth: a -> b -> a -> b ------------------------------
# x (a) -> y (b, requires x) -> z (a, requires y) -> w (b, requires z)


@strawberry.federation.type(keys=["id"], name="Part")
class ChA:
    id: ID
    y_data: strawberry.Private[int | None] = None

    @strawberry.field
    def x(self) -> int:
        return int(self.id[1:])

    @strawberry.federation.field(external=True)
    def y(self) -> int:
        raise ValueError("y is external here")

    @strawberry.federation.field(requires=["y"])
    def z(self) -> int:
        return _need(self.y_data, "y") + 1  # type: ignore[no-any-return]

    @classmethod
    def resolve_reference(cls, id: ID, y: int | None = None, **_: Any) -> ChA:
        return ChA(id=id, y_data=y)


@strawberry.type
class ChAQuery:
    @strawberry.field
    def parts(self) -> list[ChA]:
        return [ChA(id=ID("p1")), ChA(id=ID("p2"))]


@strawberry.federation.type(keys=["id"], name="Part")
class ChB:
    id: ID
    x_data: strawberry.Private[int | None] = None
    z_data: strawberry.Private[int | None] = None

    @strawberry.federation.field(external=True)
    def x(self) -> int:
        raise ValueError("x is external here")

    @strawberry.federation.field(external=True)
    def z(self) -> int:
        raise ValueError("z is external here")

    @strawberry.federation.field(requires=["x"])
    def y(self) -> int:
        return _need(self.x_data, "x") * 10  # type: ignore[no-any-return]

    @strawberry.federation.field(requires=["z"])
    def w(self) -> int:
        return _need(self.z_data, "z") * 2  # type: ignore[no-any-return]

    @classmethod
    def resolve_reference(cls, id: ID, x: int | None = None, z: int | None = None,
                          **_: Any) -> ChB:
        return ChB(id=id, x_data=x, z_data=z)


@strawberry.type
class ChBQuery:
    @strawberry.field
    def chain_version(self) -> str:
        return "b"


CHAIN = {"a": schema(ChAQuery), "b": schema(ChBQuery, types=[ChB])}

# --- value types whose fields live in several subgraphs -----------------------------------


@strawberry.type(name="Config")
class VaConfig:
    region: str


@strawberry.type(name="Category")
class VaCategory:
    name: str


@strawberry.federation.type(keys=["id"], name="Article")
class VaArticle:
    id: ID
    title: str

    @strawberry.federation.field(shareable=True)
    def category(self) -> VaCategory:
        return VaCategory(name=f"category of {self.title}")

    @classmethod
    def resolve_reference(cls, id: ID, **_: Any) -> VaArticle:
        return VaArticle(id=id, title=f"Article {id}")


@strawberry.type
class VaQuery:
    @strawberry.federation.field(shareable=True)
    def config(self) -> VaConfig:
        return VaConfig(region="us-west")

    @strawberry.field
    def articles(self) -> list[VaArticle]:
        return [VaArticle.resolve_reference(ID("a1")), VaArticle.resolve_reference(ID("a2"))]


@strawberry.type(name="Config")
class VbConfig:
    currency: str


@strawberry.type(name="Category")
class VbCategory:
    article_id: strawberry.Private[str]

    @strawberry.field
    def details(self) -> str:
        return f"details for {self.article_id}"


@strawberry.federation.type(keys=["id"], name="Article")
class VbArticle:
    id: ID

    @strawberry.federation.field(shareable=True)
    def category(self) -> VbCategory:
        return VbCategory(article_id=self.id)

    @classmethod
    def resolve_reference(cls, id: ID, **_: Any) -> VbArticle:
        return VbArticle(id=id)


@strawberry.type
class VbQuery:
    @strawberry.federation.field(shareable=True)
    def config(self) -> VbConfig:
        return VbConfig(currency="USD")


VALUE_TYPES = {"a": schema(VaQuery), "b": schema(VbQuery, types=[VbArticle])}

# --- operations valid in each subgraph: field types that differ, narrower field types ------


@strawberry.interface(name="Node")
class StNode:
    @strawberry.field
    def id(self) -> ID | None:
        return None


@strawberry.federation.type(keys=["id"], name="Book", shareable=True)
class StBook(StNode):
    book_id: strawberry.Private[str]
    title: str

    @strawberry.field
    def id(self) -> ID:  # non-null here, nullable on Movie: the same key, two shapes
        return ID(self.book_id)

    @strawberry.federation.field(shareable=True)
    def sequel(self) -> StNode | None:
        return StBook(book_id="b1", title="Dune")

    @classmethod
    def resolve_reference(cls, id: ID, **_: Any) -> StBook:
        return StBook(book_id=id, title="Dune")


@strawberry.type(name="Movie")
class StMovie(StNode):
    movie_id: strawberry.Private[str | None]
    title: str

    @strawberry.field
    def id(self) -> ID | None:
        return ID(self.movie_id) if self.movie_id else None


@strawberry.type
class StAQuery:
    @strawberry.field
    def nodes(self) -> list[StNode]:
        return [StBook(book_id="b1", title="Dune"), StMovie(movie_id=None, title="Alien"),
                StMovie(movie_id="m2", title="Heat")]

    @strawberry.federation.field(shareable=True)
    def featured(self) -> StNode:
        return StBook(book_id="b1", title="Dune")  # as b answers: a @shareable field agrees


@strawberry.federation.type(keys=["id"], name="Book", shareable=True)
class StbBook:
    id: ID
    title: str
    rating: int = strawberry.federation.field(shareable=False)

    @strawberry.federation.field(shareable=True)
    def sequel(self) -> StbBook | None:  # narrower than a's Node, as featured
        return StbBook.resolve_reference(ID("b1"))

    @classmethod
    def resolve_reference(cls, id: ID, **_: Any) -> StbBook:
        return StbBook(id=id, title="Dune", rating=5)


@strawberry.type
class StBQuery:
    @strawberry.federation.field(shareable=True)
    def featured(self) -> StbBook:  # narrower than a's Node: only a Book can come from here
        return StbBook.resolve_reference(ID("b1"))

    @strawberry.field
    def top_book(self) -> StbBook:
        return StbBook.resolve_reference(ID("b1"))


SUBGRAPH_TYPES = {
    "a": schema(StAQuery, types=[StBook, StMovie]),
    "b": schema(StBQuery),
}

# --- @interfaceObject: @key(resolvable: false), @requires on its fields ---------------------

MEMBERS = {"m1": ("Person", "Pat", "gold"), "m2": ("Company", "Initech", "silver")}


@strawberry.federation.interface(keys=["id"], name="Member")
class IoMember:
    id: ID
    tier: str

    @classmethod
    def resolve_reference(cls, id: ID, **_: Any) -> IoMember:
        kind, name, tier = MEMBERS[id]
        if kind == "Person":
            return IoPerson(id=id, tier=tier, name=name)
        return IoCompany(id=id, tier=tier, name=name)


@strawberry.federation.type(keys=["id"], name="Person")
class IoPerson(IoMember):
    name: str


@strawberry.federation.type(keys=["id"], name="Company")
class IoCompany(IoMember):
    name: str


@strawberry.type
class IoMembersQuery:
    @strawberry.field
    def members(self) -> list[IoMember]:
        return [IoMember.resolve_reference(ID(i)) for i in MEMBERS]


@strawberry.federation.interface_object(keys=[Key(fields="id", resolvable=False)],
                                        name="Member")
class IoBadgeMember:
    """Nobody can enter this subgraph by Member's key: what it answers, it answers from its
    own root field, with no entity jump unless the client needs the concrete type."""

    id: ID


@strawberry.type
class IoBadgesQuery:
    @strawberry.field
    def featured_member(self) -> IoBadgeMember:
        return IoBadgeMember(id=ID("m2"))


@strawberry.federation.interface_object(keys=["id"], name="Member")
class IoRankMember:
    id: ID
    tier_data: strawberry.Private[str | None] = None

    @strawberry.federation.field(external=True)
    def tier(self) -> str:
        raise ValueError("tier is external here")

    @strawberry.federation.field(requires=["tier"])
    def rank(self) -> str:
        return f"rank of a {_need(self.tier_data, 'tier')} member"

    @classmethod
    def resolve_reference(cls, id: ID, tier: str | None = None, **_: Any) -> IoRankMember:
        return IoRankMember(id=id, tier_data=tier)


@strawberry.type
class IoRanksQuery:
    @strawberry.field
    def ranks_version(self) -> str:
        return "1"


INTERFACE_OBJECT_KEYS = {
    "members": schema(IoMembersQuery, types=[IoPerson, IoCompany]),
    "badges": schema(IoBadgesQuery, types=[IoBadgeMember]),
    "ranks": schema(IoRanksQuery, types=[IoRankMember]),
}

# --- subgraph choice: @provides on @shareable root fields and on union fields -------------

ROUTE_CALLS: list[str] = []
WRITERS = {"w1": "Ursula", "w2": "Octavia"}


@strawberry.federation.type(keys=["id"], name="Writer")
class RoAWriter:
    id: ID


@strawberry.federation.type(shareable=True, name="Review")
class RoAReview:
    body: str
    author: RoAWriter


def _reviews(writer: type) -> list[Any]:
    return [RoAReview(body="Great", author=writer(id=ID("w1"))),
            RoAReview(body="Fine", author=writer(id=ID("w2")))]


@strawberry.type
class RoAQuery:
    @strawberry.federation.field(shareable=True)
    def top_reviews(self) -> list[RoAReview]:
        ROUTE_CALLS.append("a.topReviews")
        return _reviews(RoAWriter)


@strawberry.federation.type(keys=["id"], name="Writer")
class RoBWriter:
    id: ID
    name: str = strawberry.federation.field(external=True)


@strawberry.federation.type(shareable=True, name="Review")
class RoBReview:
    body: str
    author: RoBWriter


@strawberry.type
class RoBQuery:
    @strawberry.federation.field(shareable=True, provides=["author { name }"])
    def top_reviews(self) -> list[RoBReview]:
        ROUTE_CALLS.append("b.topReviews")
        return [RoBReview(body=r.body, author=RoBWriter(id=r.author.id,
                                                        name=WRITERS[r.author.id]))
                for r in _reviews(RoAWriter)]


@strawberry.federation.type(keys=["id"], name="Writer")
class RoWriter:
    id: ID
    name: str

    @classmethod
    def resolve_reference(cls, id: ID, **_: Any) -> RoWriter:
        ROUTE_CALLS.append(f"writers.{id}")
        return RoWriter(id=id, name=WRITERS[id])


SHELF = {"s1": ("Book", "Solaris"), "s2": ("Film", "Stalker")}


@strawberry.federation.type(keys=["id"], name="Volume")
class RoShelfVolume:
    id: ID
    title: str = strawberry.federation.field(external=True)


@strawberry.federation.type(keys=["id"], name="Film")
class RoShelfFilm:
    id: ID


Shelved = Annotated[RoShelfVolume | RoShelfFilm, strawberry.union("Shelved")]


@strawberry.type
class RoShelfQuery:
    @strawberry.federation.field(provides=["... on Volume { title }"])
    def shelf(self) -> list[Shelved]:
        ROUTE_CALLS.append("shelf.shelf")
        return [RoShelfVolume(id=ID("s1"), title=SHELF["s1"][1]), RoShelfFilm(id=ID("s2"))]


@strawberry.federation.type(keys=["id"], name="Volume")
class RoVolume:
    id: ID
    title: str

    @classmethod
    def resolve_reference(cls, id: ID, **_: Any) -> RoVolume:
        ROUTE_CALLS.append(f"titles.{id}")
        return RoVolume(id=id, title=SHELF[id][1])


@strawberry.federation.type(keys=["id"], name="Film")
class RoFilm:
    id: ID
    title: str

    @classmethod
    def resolve_reference(cls, id: ID, **_: Any) -> RoFilm:
        ROUTE_CALLS.append(f"titles.{id}")
        return RoFilm(id=id, title=SHELF[id][1])


@strawberry.type
class RoWritersQuery:
    @strawberry.field
    def writer(self, id: ID) -> RoWriter:
        return RoWriter.resolve_reference(id)


@strawberry.type
class RoTitlesQuery:
    @strawberry.field
    def titles_version(self) -> str:
        return "1"


ROUTING = {
    "a": schema(RoAQuery, types=[RoAWriter]),
    "b": schema(RoBQuery, types=[RoBWriter]),
    "writers": schema(RoWritersQuery),
    "shelf": schema(RoShelfQuery, types=[RoShelfVolume, RoShelfFilm]),
    "titles": schema(RoTitlesQuery, types=[RoVolume, RoFilm]),
}

# --- @external fields are never fetched from their subgraph unless provided ---------------


@strawberry.federation.type(keys=["id"], name="Owner")
class ExPostsOwner:
    id: ID
    # What this subgraph would answer if asked: never right, since the field is @external.
    handle: str = strawberry.federation.field(external=True)


@strawberry.type
class ExPost:
    text: str
    owner_id: strawberry.Private[str]

    @strawberry.federation.field(provides=["handle"])
    def owner(self) -> ExPostsOwner:
        return ExPostsOwner(id=ID(self.owner_id), handle=f"@{self.owner_id}")


@strawberry.type
class ExPostsQuery:
    @strawberry.field
    def posts(self) -> list[ExPost]:
        return [ExPost(text="hello", owner_id="o1"), ExPost(text="bye", owner_id="o2")]

    @strawberry.field
    def last_owner(self) -> ExPostsOwner:
        return ExPostsOwner(id=ID("o2"), handle="STALE (external, not provided)")


@strawberry.federation.type(keys=["id"], name="Owner")
class ExOwner:
    id: ID

    @strawberry.field
    def handle(self) -> str:
        return f"@{self.id}"

    @classmethod
    def resolve_reference(cls, id: ID, **_: Any) -> ExOwner:
        return ExOwner(id=id)


@strawberry.type
class ExOwnersQuery:
    @strawberry.field
    def owners_version(self) -> str:
        return "1"


EXTERNAL = {
    "posts": schema(ExPostsQuery, types=[ExPostsOwner]),
    "owners": schema(ExOwnersQuery, types=[ExOwner]),
}

# --- @inaccessible enum values returned by a subgraph ---------------------------------------


@strawberry.enum(name="Status")
class Status(Enum):
    ACTIVE = "ACTIVE"
    RETIRED = "RETIRED"
    LEGACY = strawberry.federation.enum_value("LEGACY", inaccessible=True)


@strawberry.type
class Gadget:
    id: ID
    status: Status | None
    statuses: list[Status] | None
    must_status: Status


@strawberry.type
class EnQuery:
    @strawberry.field
    def gadgets(self) -> list[Gadget | None]:
        return [
            Gadget(id=ID("x1"), status=Status.ACTIVE, statuses=[Status.ACTIVE, Status.RETIRED],
                   must_status=Status.RETIRED),
            Gadget(id=ID("x2"), status=Status.LEGACY, statuses=[Status.LEGACY],
                   must_status=Status.LEGACY),
        ]


ENUMS = {"gadgets": schema(EnQuery)}

# --- null keys: never sent; that entity's fields are null, the rest of the batch resolves ---


@strawberry.federation.type(name="Shelf", shareable=True)
class NkShelf:
    code: str | None


@strawberry.federation.type(keys=["sku", "tag shelf { code }"], name="Crate")
class NkCrate:
    label: str
    sku: str | None
    tag: str | None
    shelf: NkShelf | None = strawberry.federation.field(shareable=True)


@strawberry.type
class NkQuery:
    @strawberry.field
    def crates(self) -> list[NkCrate]:
        return [
            NkCrate(label="full", sku="s1", tag="t1", shelf=NkShelf(code="A")),
            NkCrate(label="no sku", sku=None, tag="t2", shelf=NkShelf(code="B")),
            NkCrate(label="no shelf code", sku="s3", tag="t3", shelf=NkShelf(code=None)),
        ]


SEEN_CRATES: list[dict[str, Any]] = []


@strawberry.federation.type(keys=["sku"], name="Crate")
class NkStockCrate:
    sku: str | None

    @strawberry.field
    def stock(self) -> int | None:
        return len(self.sku or "") * 10

    @classmethod
    def resolve_reference(cls, sku: str | None = None, **rep: Any) -> NkStockCrate:
        SEEN_CRATES.append({"sku": sku, **rep})
        if sku is None:
            raise ValueError("a representation without its key")
        return NkStockCrate(sku=sku)


@strawberry.federation.type(name="Shelf", shareable=True)
class NkLocShelf:
    code: str | None


@strawberry.federation.type(keys=["tag shelf { code }"], name="Crate")
class NkLocCrate:
    tag: str | None
    shelf: NkLocShelf | None = strawberry.federation.field(shareable=True)

    @strawberry.field
    def aisle(self) -> str | None:
        return f"aisle {self.tag}/{self.shelf.code if self.shelf else None}"

    @classmethod
    def resolve_reference(cls, tag: str | None = None, shelf: dict[str, Any] | None = None,
                          **_: Any) -> NkLocCrate:
        if tag is None or not shelf or shelf.get("code") is None:
            raise ValueError("a representation without its key")
        return NkLocCrate(tag=tag, shelf=NkLocShelf(code=shelf["code"]))


@strawberry.type
class NkStockQuery:
    @strawberry.field
    def stock_version(self) -> str:
        return "1"


@strawberry.type
class NkLocQuery:
    @strawberry.field
    def locations_version(self) -> str:
        return "1"


NULL_KEYS = {
    "crates": schema(NkQuery),
    "stock": schema(NkStockQuery, types=[NkStockCrate]),
    "locations": schema(NkLocQuery, types=[NkLocCrate]),
}

# --- a union under a @shareable field, whose members only some subgraphs know --------------


@strawberry.federation.type(keys=["id"], name="Song")
class PuSong:
    id: ID
    title: str = strawberry.federation.field(shareable=True)


@strawberry.federation.type(keys=["id"], name="Podcast")
class PuPodcast:
    id: ID
    title: str = strawberry.federation.field(shareable=True)


Playable = Annotated[PuSong | PuPodcast, strawberry.union("Playable")]


@strawberry.type
class PuWideQuery:
    @strawberry.federation.field(shareable=True)
    def playlist(self) -> list[Playable]:
        return [PuSong(id=ID("s1"), title="Song One"), PuPodcast(id=ID("p1"), title="Pod One")]


@strawberry.federation.type(keys=["id"], name="Song")
class PuNarrowSong:
    id: ID
    title: str = strawberry.federation.field(shareable=True)


NarrowPlayable = Annotated[PuNarrowSong, strawberry.union("Playable")]


@strawberry.type
class PuNarrowQuery:
    @strawberry.federation.field(shareable=True)
    def playlist(self) -> list[NarrowPlayable]:
        return [PuNarrowSong(id=ID("s1"), title="Song One")]


PARTIAL_UNIONS = {
    "narrow": schema(PuNarrowQuery, types=[PuNarrowSong]),
    "wide": schema(PuWideQuery, types=[PuSong, PuPodcast]),
}
