from __future__ import annotations

import dataclasses

import httpx

from services.facility.app import create_app


async def test_the_service_migrates_seeds_and_reports_ready(settings, database_url, nats_server):
    settings = dataclasses.replace(
        settings,
        database_urls={**settings.database_urls, "facility": database_url},
        nats_url=nats_server.url,
        auto_migrate=True,
        demo=True,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://facility") as client:
            assert (await client.get("/healthz")).json()["service"] == "facility"
            ops = httpx.AsyncClient(transport=httpx.ASGITransport(app=app.state.ops),
                                    base_url="http://facility-ops")
            async with ops:
                ready = (await ops.get("/readyz")).json()
            assert ready["checks"]["database"]["ok"] is True
            agencies = await client.post(
                "/graphql", json={"query": '{ regulatorAgencies(county: "Plumas") { name } }'}
            )
            assert agencies.json()["data"]["regulatorAgencies"] == [
                {"name": "Plumas County Environmental Health"}
            ]
            bad = await client.post(
                "/graphql",
                json={"query": "{ myBusinesses { totalCount } }"},
                headers={"authorization": "Bearer not-a-token"},
            )
            assert bad.status_code == 401
