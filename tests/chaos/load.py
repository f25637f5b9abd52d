"""A mixed write load across the three services, sent through the gateway as clients send it.

Each operation is a real journey step (sign-in tokens, GraphQL mutations). Failures while a
process or NATS is down are expected and only counted: what the test checks afterwards is
that every event that was emitted was applied exactly once and the read models agree.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.chaos.cluster import ChaosCluster
from tests.e2e import client
from tests.e2e.conftest import DEMO_BUSINESS, DEMO_REGULATOR, PASSWORD

STATEMENT = "I certify that the HMBP on file is complete, accurate and unchanged."
HMBP = ("FACILITY_INFORMATION", "HAZARDOUS_MATERIALS_INVENTORY",
        "EMERGENCY_RESPONSE_TRAINING_PLANS")
NOT_APPLICABLE = ("UST", "APSA", "CALARP", "TIERED_PERMITTING")
REGISTER = """mutation($input: RegisterAccountInput!) { registerAccount(input: $input) {
  userErrors { code } } }"""
CREATE_BUSINESS = """mutation($input: CreateBusinessInput!) { createBusiness(input: $input) {
  organization { id } facility { id } userErrors { code message } } }"""
ADD_FACILITY = """mutation($input: AddFacilityInput!) { addFacility(input: $input) {
  facility { id } userErrors { code message } } }"""
UPDATE_FACILITY = """mutation($input: UpdateFacilityInput!) { updateFacility(input: $input) {
  facility { id } userErrors { code message } } }"""
TRANSFER = """mutation($input: TransferFacilityInput!) { transferFacility(input: $input) {
  facility { id } userErrors { code message } } }"""
ADD_PERSON = """mutation($input: AddPersonInput!) { addPerson(input: $input) {
  userErrors { code message } } }"""
CHANGE_ROLE = """mutation($input: PersonInput!) { changePersonRole(input: $input) {
  userErrors { code message } } }"""
REMOVE_PERSON = """mutation($input: PersonInput!) { removePerson(input: $input) {
  userErrors { code message } } }"""
START = """mutation($input: StartSubmittalInput!) { startSubmittal(input: $input) {
  element { id } userErrors { code message } } }"""
SUBMIT = """mutation($input: FacilityIdInput!) { submitDrafts(input: $input) {
  elements { id } userErrors { code message } } }"""
CERTIFY = """mutation($input: CertifyNoChangeInput!) { certifyNoChange(input: $input) {
  elements { id } userErrors { code message } } }"""
NOT_APPLICABLE_MUTATION = """mutation($input: MarkNotApplicableInput!) {
  markNotApplicable(input: $input) { element { id } userErrors { code message } } }"""
QUEUE = """{ reviewQueue(first: 20, filter: {status: [SUBMITTED]}) {
  edges { node { id } } } }"""
REVIEW = """mutation($input: ReviewSubmittalElementInput!) {
  reviewSubmittalElement(input: $input) { element { id } userErrors { code message } } }"""
MY_FACILITIES = """{ myBusinesses { edges { node { id
  facilities(first: 50) { edges { node { id } } } } } } }"""


@dataclass
class Person:
    username: str
    password: str
    portal: str
    email: str = ""
    user_id: str = ""
    organization_id: str = ""


@dataclass
class Load:
    cluster: ChaosCluster
    seed: int = 7
    people: list[Person] = field(default_factory=list)
    owner: dict[str, str] = field(default_factory=dict)  # facility id -> organization id
    outcomes: Counter[str] = field(default_factory=Counter)
    # Facilities the fault script works on, out of the load's reach, and those the load is
    # working on right now (so a reservation waits for them).
    reserved: set[str] = field(default_factory=set)
    _in_use: Counter[str] = field(default_factory=Counter)
    _tokens: dict[str, tuple[float, str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    regulator: Person = field(default_factory=lambda: Person(*DEMO_REGULATOR, "regulator"))

    # --- set-up, before any fault ---------------------------------------------------------

    def prepare(self, businesses: int = 3) -> None:
        demo = Person(*DEMO_BUSINESS, "business")
        self.people.append(demo)
        demo.organization_id = self._my_facilities(demo)
        for i in range(businesses):
            person = self.register(f"chaos{i}")
            body = self.gql(person, CREATE_BUSINESS, {"input": {
                "name": f"Chaos Supply {i}", "facility": self._facility(f"Chaos Supply {i}")}})
            created = client.payload(body, "createBusiness")
            person.organization_id = created["organization"]["id"]
            self.owner[created["facility"]["id"]] = person.organization_id

    def register(self, name: str) -> Person:
        username = f"{name}.{secrets.token_hex(3)}"
        person = Person(username, PASSWORD, "business", f"{username}@example.com")
        body = self.cluster.graphql(REGISTER, {"input": {
            "portal": "BUSINESS", "username": username, "email": person.email,
            "password": PASSWORD, "firstName": name.title(), "lastName": "Chaos",
            "title": "Owner", "phone": "(530) 555-0100"}})
        assert client.payload(body, "registerAccount")["userErrors"] == [], body
        from tests.e2e.conftest import activate

        activate(self.cluster, person.email)  # type: ignore[arg-type]
        # Sign-up answers without the account (it must not tell a taken address from a new
        # one); its owner learns the id by signing in.
        person.user_id = str(client.data(self.gql(person, "{ me { id } }"))["me"]["id"])
        self.people.append(person)
        return person

    def _my_facilities(self, person: Person) -> str:
        def probe() -> str | None:
            body = self.gql(person, MY_FACILITIES)
            edges = ((body.get("data") or {}).get("myBusinesses") or {}).get("edges") or []
            if not edges:
                return None
            org = edges[0]["node"]
            for edge in org["facilities"]["edges"]:
                self.owner[edge["node"]["id"]] = org["id"]
            return str(org["id"])

        from tests.e2e.system import eventually

        return eventually(probe, timeout=60)

    @staticmethod
    def _facility(name: str) -> dict[str, Any]:
        return {"name": f"{name} - Site {secrets.token_hex(2)}", "county": "Plumas",
                "siteAddress": {"street": f"{random.randrange(100, 99999)} Chaos Way "
                                          f"{secrets.token_hex(3)}",
                                "city": "Quincy", "state": "CA", "zip": "95971"}}

    # --- plumbing ---------------------------------------------------------------------------

    def token(self, person: Person) -> str | None:
        cached = self._tokens.get(person.username)
        if cached and time.monotonic() - cached[0] < 600:
            return cached[1]
        try:
            token = client.sign_in(self.cluster, person.username, person.password,  # type: ignore[arg-type]
                                   person.portal).access_token
        except (AssertionError, httpx.HTTPError, KeyError):
            return None  # identity or the gateway is down right now
        self._tokens[person.username] = (time.monotonic(), token)
        return token

    def gql(self, person: Person, query: str, variables: dict[str, Any] | None = None
            ) -> dict[str, Any]:
        token = self.token(person)
        if token is None:
            return {"errors": [{"extensions": {"code": "NO_TOKEN"}}]}
        try:
            return self.cluster.graphql(query, variables, token, timeout=20)
        except httpx.HTTPError as error:
            return {"errors": [{"extensions": {"code": type(error).__name__}}]}

    def record(self, operation: str, body: dict[str, Any], field_name: str | None = None,
               result: str | None = None) -> bool:
        """Count the outcome; ``result`` names the payload field whose presence means done
        (a draft is started even when it has validation findings)."""
        codes = client.errors(body)
        if field_name and not codes:
            payload = (body.get("data") or {}).get(field_name) or {}
            done = result is not None and payload.get(result)
            codes = [] if done else [e.get("code", "?") for e in payload.get("userErrors") or []]
        outcome = "ok" if not codes else codes[0]
        with self._lock:
            self.outcomes[f"{operation}: {outcome}"] += 1
        return not codes

    # --- operations -------------------------------------------------------------------------

    def businesses(self) -> list[Person]:
        return [p for p in self.people if p.organization_id]

    def lead_of(self, organization_id: str) -> Person | None:
        return next((p for p in self.people if p.organization_id == organization_id), None)

    @contextmanager
    def _facility_to_work_on(self, rng: random.Random) -> Iterator[str]:
        with self._lock:
            facility = rng.choice(sorted(set(self.owner) - self.reserved))
            self._in_use[facility] += 1
        try:
            yield facility
        finally:
            with self._lock:
                self._in_use[facility] -= 1

    @contextmanager
    def reserve(self, rng: random.Random) -> Iterator[str]:
        """A facility no load operation touches until the block ends: a fault script's own
        steps on it (transfer, then a rename by the new owner) must not race the load."""
        with self._lock:
            facility = rng.choice(sorted(set(self.owner) - self.reserved))
            self.reserved.add(facility)
        try:
            deadline = time.monotonic() + 60
            while self._in_use[facility] and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not self._in_use[facility], f"the load kept working on {facility}"
            yield facility
        finally:
            with self._lock:
                self.reserved.discard(facility)

    def rename(self, rng: random.Random) -> None:
        with self._facility_to_work_on(rng) as facility:
            self._rename(facility)

    def _rename(self, facility: str) -> None:
        lead = self.lead_of(self.owner[facility])
        if lead is None:
            return
        body = self.gql(lead, UPDATE_FACILITY, {"input": {
            "facilityId": facility, "name": f"Renamed {secrets.token_hex(3)}"}})
        self.record("updateFacility", body, "updateFacility")

    def add_facility(self, rng: random.Random) -> None:
        lead = rng.choice(self.businesses())
        body = self.gql(lead, ADD_FACILITY, {"input": {
            "organizationId": lead.organization_id, "facility": self._facility("Added")}})
        if self.record("addFacility", body, "addFacility"):
            self.owner[body["data"]["addFacility"]["facility"]["id"]] = lead.organization_id

    def people_churn(self, rng: random.Random) -> None:
        lead = rng.choice(self.businesses())
        others = [p for p in self.people if p is not lead and p.user_id]
        if not others:
            return
        other = rng.choice(others)
        role = rng.choice(["VIEWER", "EDITOR", "APPROVER"])
        action = rng.choice(["add", "change", "remove"])
        if action == "add":
            body = self.gql(lead, ADD_PERSON, {"input": {
                "organizationId": lead.organization_id, "email": other.email, "role": role}})
            self.record("addPerson", body, "addPerson")
        elif action == "change":
            body = self.gql(lead, CHANGE_ROLE, {"input": {
                "organizationId": lead.organization_id, "userId": other.user_id, "role": role}})
            self.record("changePersonRole", body, "changePersonRole")
        else:
            body = self.gql(lead, REMOVE_PERSON, {"input": {
                "organizationId": lead.organization_id, "userId": other.user_id}})
            self.record("removePerson", body, "removePerson")

    def transfer(self, rng: random.Random) -> None:
        with self._facility_to_work_on(rng) as facility:
            self.transfer_facility(rng, facility)

    def transfer_facility(self, rng: random.Random, facility: str, to: str | None = None
                          ) -> str | None:
        choices = [p.organization_id for p in self.businesses()
                   if p.organization_id != self.owner[facility]]
        to = to or rng.choice(choices)
        body = self.gql(self.regulator, TRANSFER, {"input": {
            "facilityId": facility, "toOrganizationId": to}})
        if self.record("transferFacility", body, "transferFacility"):
            self.owner[facility] = to
            return to
        return None

    def submit(self, rng: random.Random) -> None:
        with self._facility_to_work_on(rng) as facility:
            self._submit(rng, facility)

    def _submit(self, rng: random.Random, facility: str) -> None:
        lead = self.lead_of(self.owner[facility])
        if lead is None:
            return
        kind = rng.choice(["certify", "hmbp", "not_applicable"])
        if kind == "certify":
            body = self.gql(lead, CERTIFY, {"input": {"facilityId": facility,
                                                      "statement": STATEMENT}})
            self.record("certifyNoChange", body, "certifyNoChange")
        elif kind == "not_applicable":
            body = self.gql(lead, NOT_APPLICABLE_MUTATION, {"input": {
                "facilityId": facility, "element": rng.choice(NOT_APPLICABLE)}})
            self.record("markNotApplicable", body, "markNotApplicable")
        else:
            for element in HMBP:
                start = self.gql(lead, START, {"input": {
                    "facilityId": facility, "element": element, "basedOn": "LAST_SUBMITTAL"}})
                if not self.record("startSubmittal", start, "startSubmittal", "element"):
                    return
            body = self.gql(lead, SUBMIT, {"input": {"facilityId": facility}})
            self.record("submitDrafts", body, "submitDrafts")

    def review(self, rng: random.Random) -> None:
        queue = self.gql(self.regulator, QUEUE)
        edges = ((queue.get("data") or {}).get("reviewQueue") or {}).get("edges") or []
        if not edges:
            return
        element = rng.choice(edges)["node"]["id"]
        action = rng.choice(["ACCEPT", "NOT_ACCEPT", "UNDER_REVIEW"])
        body = self.gql(self.regulator, REVIEW, {"input": {
            "id": element, "action": action,
            "comments": "Please correct the site map." if action == "NOT_ACCEPT" else None}})
        self.record("reviewSubmittalElement", body, "reviewSubmittalElement")

    def new_account(self, rng: random.Random) -> None:
        try:
            self.register(f"late{rng.randrange(1000)}")
            with self._lock:
                self.outcomes["registerAccount: ok"] += 1
        except (AssertionError, httpx.HTTPError, KeyError):
            with self._lock:
                self.outcomes["registerAccount: failed"] += 1

    def run(self, until: float, worker: int) -> None:
        rng = random.Random(self.seed * 1000 + worker)
        operations = [
            (self.rename, 4), (self.add_facility, 1), (self.people_churn, 4),
            (self.transfer, 2), (self.submit, 4), (self.review, 2), (self.new_account, 1),
        ]
        actions = [op for op, weight in operations for _ in range(weight)]
        while time.monotonic() < until:
            try:
                rng.choice(actions)(rng)
            except (httpx.HTTPError, AssertionError, KeyError, TypeError) as error:
                with self._lock:
                    self.outcomes[f"client error: {type(error).__name__}"] += 1
