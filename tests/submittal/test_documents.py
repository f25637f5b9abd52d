from __future__ import annotations

from tests.submittal.conftest import World
from tests.submittal.flows import INVENTORY, SUBMIT, ok, save, start

PDF = b"%PDF-1.7\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 20 + b"%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ATTACH = """mutation($id: ID!, $doc: ID!, $slot: String!) {
  attachDocument(input: {elementId: $id, slot: $slot, documentId: $doc}) {
    element { id siteMap { option documentIds } } userErrors { field code message } } }"""


async def upload(world: World, user: str, content: bytes, content_type: str,
                 facility: str | None = None) -> tuple[int, dict]:
    headers = {"content-type": content_type}
    if user:
        headers["authorization"] = f"Bearer {world.t(user)}"
    response = await world.h.client.post(
        "/documents", params={"facilityId": facility or world.facility, "filename": "plan.pdf"},
        content=content, headers=headers)
    return response.status_code, response.json()


async def download(world: World, user: str | None, document_id: str):
    headers = {"authorization": f"Bearer {world.t(user)}"} if user else {}
    return await world.h.client.get(f"/documents/{document_id}", headers=headers)


async def test_an_uploaded_document_is_stored_with_its_checksum_and_attached_to_a_draft(
    world: World,
):
    import hashlib

    status, body = await upload(world, "editor", PDF, "application/pdf")
    assert status == 201
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert body["contentType"] == "application/pdf"
    assert list((world.h.data_dir / "documents").rglob(body["id"]))

    h, editor = world.h, world.t("editor")
    draft = await start(h, editor, world.facility, "HAZARDOUS_MATERIALS_INVENTORY")
    await save(h, editor, draft, {"materials": INVENTORY["materials"]})
    attached = ok(await h.gql(ATTACH, editor, id=draft, doc=body["id"], slot="siteMap"),
                  "attachDocument")
    assert attached["element"]["siteMap"] == {"option": "ATTACHED", "documentIds": [body["id"]]}

    fetched = await download(world, "viewer", body["id"])
    assert fetched.status_code == 200 and fetched.content == PDF
    assert fetched.headers["x-checksum-sha256"] == body["sha256"]
    # Before submission, the document is the business's alone.
    assert (await download(world, "inspector", body["id"])).status_code == 404
    ok(await h.gql(SUBMIT, world.t("approver"), f=world.facility), "submitDrafts")
    assert (await download(world, "inspector", body["id"])).status_code == 200
    assert (await download(world, "other-inspector", body["id"])).status_code == 404
    assert (await download(world, "outsider", body["id"])).status_code == 404
    assert (await download(world, None, body["id"])).status_code == 401


async def test_a_document_id_of_another_facility_cannot_be_attached(world: World):
    status, body = await upload(world, "outsider", PDF, "application/pdf",
                                facility=world.other_facility)
    assert status == 201
    h, editor = world.h, world.t("editor")
    draft = await start(h, editor, world.facility, "HAZARDOUS_MATERIALS_INVENTORY")
    result = ok(await h.gql(ATTACH, editor, id=draft, doc=body["id"], slot="siteMap"),
                "attachDocument")
    assert result["element"] is None
    assert result["userErrors"][0]["code"] == "UNKNOWN_DOCUMENT"


async def test_uploads_over_25_mb_are_refused(world: World):
    status, body = await upload(world, "editor", PDF + b"0" * (25 * 1024 * 1024),
                                "application/pdf")
    assert status == 413
    assert "25 MB" in body["error"]["message"]


async def test_content_that_does_not_match_its_declared_type_is_refused(world: World):
    status, body = await upload(world, "editor", PDF, "image/png")
    assert status == 415
    assert "application/pdf" in body["error"]["message"]
    status, _ = await upload(world, "editor", b"MZ\x90\x00\x03" + b"\x00" * 60,
                             "application/pdf")
    assert status == 415
    status, body = await upload(world, "editor", PNG, "image/png")
    assert status == 201 and body["contentType"] == "image/png"


async def test_only_business_editors_upload(world: World):
    assert (await upload(world, "viewer", PDF, "application/pdf"))[0] == 403
    assert (await upload(world, "inspector", PDF, "application/pdf"))[0] == 403
    assert (await upload(world, "outsider", PDF, "application/pdf"))[0] == 404
    assert (await upload(world, "", PDF, "application/pdf"))[0] == 401


async def test_multipart_uploads_work_too(world: World):
    response = await world.h.client.post(
        "/documents", data={"facilityId": world.facility},
        files={"file": ("site-map.png", PNG, "image/png")},
        headers={"authorization": f"Bearer {world.t('editor')}"})
    assert response.status_code == 201, response.text
    assert response.json()["filename"] == "site-map.png"


async def test_an_upload_is_read_only_for_a_signed_in_caller_and_bad_bodies_are_coded(
    world: World,
):
    garbage = b"--x\r\nnot a part\r\n--x--"
    status, body = await upload(world, "", garbage, "multipart/form-data; boundary=x")
    assert (status, body["error"]["code"]) == (401, "UNAUTHENTICATED")
    for content_type, content in [
        ("multipart/form-data; boundary=x", garbage),
        ("multipart/form-data", b"no boundary"),
    ]:
        status, body = await upload(world, "editor", content, content_type)
        assert status == 400 and body["error"]["code"] == "BAD_USER_INPUT", body
