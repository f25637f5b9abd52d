"""One small set of subgraphs per federation feature; each set composes on its own."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

ID = strawberry.ID


def schema(query: type | None = None, types: list[Any] | None = None, **kw: Any) -> Any:
    return strawberry.federation.Schema(
        query=query, types=types or [], federation_version="2.9", **kw
    )


PRODUCTS = {"p1": ("Kayak", 20.0, 900), "p2": ("Paddle", 3.0, 50), "p3": ("Tent", 4.5, 300)}

# --- @requires ---------------------------------------------------------------------------


@strawberry.federation.type(keys=["upc"], name="Product")
class RqProduct:
    upc: ID
    name: str
    weight: float

    @classmethod
    def resolve_reference(cls, upc: ID, **_: Any) -> RqProduct:
        name, weight, _price = PRODUCTS[upc]
        return RqProduct(upc=upc, name=name, weight=weight)


@strawberry.type
class RqQuery:
    @strawberry.field
    def top_products(self) -> list[RqProduct]:
        return [RqProduct.resolve_reference(ID(u)) for u in PRODUCTS]


@strawberry.federation.type(keys=["upc"], name="Product")
class ShProduct:
    upc: ID
    weight: float = strawberry.federation.field(external=True)

    @strawberry.federation.field(requires=["weight"])
    def shipping_estimate(self) -> float:
        return round(self.weight * 1.5, 2)

    @classmethod
    def resolve_reference(cls, upc: ID, weight: float | None = None, **_: Any) -> ShProduct:
        if weight is None:
            raise ValueError("weight was not sent with the representation")
        return ShProduct(upc=upc, weight=weight)


@strawberry.type
class ShQuery:
    @strawberry.field
    def shipping_version(self) -> str:
        return "1"


REQUIRES = {
    "products": schema(RqQuery),
    "shipping": schema(ShQuery, types=[ShProduct]),
}

# --- @provides and @external ---------------------------------------------------------------

PROVIDE_CALLS: list[str] = []
AUTHORS = {"a1": "ada", "a2": "grace"}


@strawberry.federation.type(keys=["id"], name="User")
class PvUser:
    id: ID
    username: str = strawberry.federation.field(external=True)


@strawberry.type
class Review:
    body: str

    author_id: strawberry.Private[str]

    @strawberry.federation.field(provides=["username"])
    def author(self) -> PvUser:
        return PvUser(id=ID(self.author_id), username=AUTHORS[self.author_id])


@strawberry.type
class PvQuery:
    @strawberry.field
    def reviews(self) -> list[Review]:
        return [Review(body="Great", author_id="a1"), Review(body="Meh", author_id="a2")]


@strawberry.federation.type(keys=["id"], name="User")
class AcUser:
    id: ID
    username: str
    karma: int

    @classmethod
    def resolve_reference(cls, id: ID, **_: Any) -> AcUser:
        PROVIDE_CALLS.append(str(id))
        return AcUser(id=id, username=AUTHORS[id], karma=len(id) * 7)


@strawberry.type
class AcQuery:
    @strawberry.field
    def user(self, id: ID) -> AcUser:
        return AcUser.resolve_reference(id)


PROVIDES = {"reviews": schema(PvQuery, types=[PvUser]), "accounts": schema(AcQuery)}

# --- @shareable (prefer the subgraph already fetching) --------------------------------------

SHARE_CALLS: list[str] = []


@strawberry.federation.type(keys=["upc"], name="Product")
class ShareA:
    upc: ID
    name: str = strawberry.federation.field(shareable=True)


@strawberry.type
class ShareAQuery:
    @strawberry.field
    def products_a(self) -> list[ShareA]:
        return [ShareA(upc=ID(u), name=v[0]) for u, v in PRODUCTS.items()]


@strawberry.federation.type(keys=["upc"], name="Product")
class ShareB:
    upc: ID
    name: str = strawberry.federation.field(shareable=True)
    price: int

    @classmethod
    def resolve_reference(cls, upc: ID, **_: Any) -> ShareB:
        SHARE_CALLS.append(str(upc))
        return ShareB(upc=upc, name=PRODUCTS[upc][0], price=PRODUCTS[upc][2])


@strawberry.type
class ShareBQuery:
    @strawberry.field
    def products_b(self) -> list[ShareB]:
        return [ShareB.resolve_reference(ID(u)) for u in PRODUCTS]


SHAREABLE = {"a": schema(ShareAQuery), "b": schema(ShareBQuery)}

# --- @override ------------------------------------------------------------------------------


@strawberry.federation.type(keys=["upc"], name="Product")
class OvOld:
    upc: ID
    name: str

    @strawberry.field
    def in_stock(self) -> str:
        return "old answer"

    @classmethod
    def resolve_reference(cls, upc: ID, **_: Any) -> OvOld:
        return OvOld(upc=upc, name=PRODUCTS[upc][0])


@strawberry.type
class OvOldQuery:
    @strawberry.field
    def products(self) -> list[OvOld]:
        return [OvOld.resolve_reference(ID(u)) for u in PRODUCTS]


@strawberry.federation.type(keys=["upc"], name="Product")
class OvNew:
    upc: ID

    @strawberry.federation.field(override="old")
    def in_stock(self) -> str:
        return f"new answer for {self.upc}"

    @classmethod
    def resolve_reference(cls, upc: ID, **_: Any) -> OvNew:
        return OvNew(upc=upc)


@strawberry.type
class OvNewQuery:
    @strawberry.field
    def inventory_version(self) -> str:
        return "2"


OVERRIDE = {"old": schema(OvOldQuery), "new": schema(OvNewQuery, types=[OvNew])}

# --- interfaces and unions spread across subgraphs ------------------------------------------

BOOKS = {"b1": ("Dune", 1965), "b2": ("Emma", 1815)}
MOVIES = {"m1": ("Alien", 117)}


@strawberry.interface
class Media:
    id: ID
    title: str


@strawberry.federation.type(keys=["id"])
class Book(Media):
    year: int


@strawberry.federation.type(keys=["id"])
class Movie(Media):
    minutes: int


@strawberry.type
class Author:
    name: str


SearchResult = Annotated[Book | Movie | Author, strawberry.union("SearchResult")]


def _book(id: str) -> Book:
    return Book(id=ID(id), title=BOOKS[id][0], year=BOOKS[id][1])


@strawberry.type
class CatalogQuery:
    @strawberry.field
    def media(self) -> list[Media]:
        return [_book("b1"), Movie(id=ID("m1"), title="Alien", minutes=117), _book("b2")]

    @strawberry.field
    def search(self) -> list[SearchResult]:
        return [Author(name="Herbert"), _book("b1"), Movie(id=ID("m1"), title="Alien", minutes=117)]


@strawberry.federation.type(keys=["id"], name="Book")
class RvBook:
    id: ID

    @strawberry.field
    def rating(self) -> int:
        return {"b1": 5, "b2": 4}[self.id]

    @classmethod
    def resolve_reference(cls, id: ID, **_: Any) -> RvBook:
        return RvBook(id=id)


@strawberry.federation.type(keys=["id"], name="Movie")
class RvMovie:
    id: ID

    @strawberry.field
    def rating(self) -> int:
        return 3

    @classmethod
    def resolve_reference(cls, id: ID, **_: Any) -> RvMovie:
        return RvMovie(id=id)


@strawberry.type
class RatingsQuery:
    @strawberry.field
    def best_book(self) -> RvBook:
        return RvBook(id=ID("b1"))


ABSTRACT = {
    "catalog": schema(CatalogQuery, types=[Book, Movie, Author]),
    "ratings": schema(RatingsQuery, types=[RvBook, RvMovie]),
}

# --- @interfaceObject ------------------------------------------------------------------------

ACCOUNTS = {"x1": ("Person", "Pat"), "x2": ("Company", "Initech")}


@strawberry.federation.interface(keys=["id"])
class Account:
    id: ID

    @classmethod
    def resolve_reference(cls, id: ID, **_: Any) -> Account:
        kind, name = ACCOUNTS[id]
        return Person(id=id, name=name) if kind == "Person" else Company(id=id, name=name)


@strawberry.federation.type(keys=["id"])
class Person(Account):
    name: str


@strawberry.federation.type(keys=["id"])
class Company(Account):
    name: str


@strawberry.type
class AccountsQuery:
    @strawberry.field
    def accounts(self) -> list[Account]:
        return [Account.resolve_reference(ID(i)) for i in ACCOUNTS]


@strawberry.federation.interface_object(keys=["id"], name="Account")
class ScoredAccount:
    id: ID

    @strawberry.field
    def score(self) -> int:
        return 10 * int(self.id[1:])

    @classmethod
    def resolve_reference(cls, id: ID, **_: Any) -> ScoredAccount:
        return ScoredAccount(id=id)


@strawberry.type
class ScoresQuery:
    @strawberry.field
    def top_account(self) -> ScoredAccount:
        return ScoredAccount(id=ID("x2"))


INTERFACE_OBJECT = {
    "accounts": schema(AccountsQuery, types=[Person, Company]),
    "scores": schema(ScoresQuery, types=[ScoredAccount]),
}

# --- multi-hop keys: A knows id, B maps id to sku, C knows only sku ---------------------------

ITEMS = {"i1": "SKU-1", "i2": "SKU-2"}


@strawberry.federation.type(keys=["id"], name="Item")
class HopA:
    id: ID


@strawberry.type
class HopAQuery:
    @strawberry.field
    def items(self) -> list[HopA]:
        return [HopA(id=ID(i)) for i in ITEMS]


@strawberry.federation.type(keys=["id", "sku"], name="Item")
class HopB:
    id: ID
    sku: str

    @classmethod
    def resolve_reference(cls, id: ID | None = None, sku: str | None = None, **_: Any) -> HopB:
        if id is None:
            id = ID(next(k for k, v in ITEMS.items() if v == sku))
        return HopB(id=id, sku=ITEMS[id])


@strawberry.type
class HopBQuery:
    @strawberry.field
    def hop_b_version(self) -> str:
        return "b"


@strawberry.federation.type(keys=["sku"], name="Item")
class HopC:
    sku: str

    @strawberry.field
    def rating(self) -> str:
        return f"rated {self.sku}"

    @classmethod
    def resolve_reference(cls, sku: str, **_: Any) -> HopC:
        return HopC(sku=sku)


@strawberry.type
class HopCQuery:
    @strawberry.field
    def hop_c_version(self) -> str:
        return "c"


MULTI_HOP = {
    "a": schema(HopAQuery),
    "b": schema(HopBQuery, types=[HopB]),
    "c": schema(HopCQuery, types=[HopC]),
}


# --- a composite key with a nested field -------------------------------------------------------


@strawberry.federation.type(shareable=True)
class Venue:
    id: ID


@strawberry.federation.type(keys=["number venue { id }"], name="Seat")
class SeatA:
    number: int
    venue: Venue
    label: str


@strawberry.type
class SeatsQuery:
    @strawberry.field
    def seats(self) -> list[SeatA]:
        return [SeatA(number=n, venue=Venue(id=ID(v)), label=f"{v}-{n}")
                for v, n in (("v1", 1), ("v1", 2), ("v2", 1))]


@strawberry.federation.type(keys=["number venue { id }"], name="Seat")
class SeatB:
    number: int
    venue: Venue

    @strawberry.field
    def booked(self) -> bool:
        return (self.number + len(self.venue.id)) % 2 == 0

    @classmethod
    def resolve_reference(cls, number: int, venue: dict[str, Any], **_: Any) -> SeatB:
        return SeatB(number=number, venue=Venue(id=ID(venue["id"])))


@strawberry.type
class BookingsQuery:
    @strawberry.field
    def bookings_version(self) -> str:
        return "1"


COMPOSITE_KEY = {
    "seats": schema(SeatsQuery, types=[Venue]),
    "bookings": schema(BookingsQuery, types=[SeatB, Venue]),
}
