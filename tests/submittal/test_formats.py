from __future__ import annotations

import pytest

from services.submittal.domain.hmi_csv import TEMPLATE, parse_csv
from services.submittal.domain.sniff import check_declared, sniff
from services.submittal.service_layer.drafts import attach

HEADER = "commonName,ehs,physicalState,maximumDailyAmount,units,containerTypes,"
HEADER += "fireCodeHazardClasses,component2Name,component2Percent\n"


def test_the_template_parses_to_one_clean_material():
    materials, issues = parse_csv(TEMPLATE)
    assert issues == []
    assert materials[0].location == "Fuel island, north tank"
    assert [c.value for c in materials[0].hazard_categories] == ["FLAMMABLE", "ACUTE_TOXICITY"]


def test_csv_cells_accept_yes_no_words_any_case_enums_and_lists():
    materials, issues = parse_csv(
        HEADER + "Propane,no,gas,\"1,500\",cubic feet,cylinder;above ground tank,15;8,,\n")
    assert issues == []
    material = materials[0]
    assert material.ehs is False and material.maximum_daily_amount == 1500
    assert [c.value for c in material.container_types] == ["CYLINDER", "ABOVE_GROUND_TANK"]
    assert material.fire_code_hazard_classes == (15, 8)


def test_component_columns_map_back_to_their_column_names_in_errors():
    _, issues = parse_csv(HEADER + "Mix,N,LIQUID,10,GALLONS,,,Water,0\n")
    assert [(i.field, i.code) for i in issues] == [
        (["rows", "2", "component2Percent"], "OUT_OF_RANGE")]


def test_a_row_with_too_many_cells_is_an_error():
    _, issues = parse_csv("commonName,ehs\nA,N,extra\n")
    assert issues[0].field == ["rows", "2", "row"]


@pytest.mark.parametrize(("head", "kind"), [
    (b"%PDF-1.4 ...", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n....", "image/png"),
    (b"\xff\xd8\xff\xe0..JFIF", "image/jpeg"),
    (b"GIF89a....", "image/gif"),
    (b"II*\x00....", "image/tiff"),
    (b"PK\x03\x04....", "application/zip"),
    (b"name,qty\nfoo,1\n", "text/plain"),
    (b"MZ\x90\x00\x03\x00", None),
    (b"\x7fELF\x02\x01\x01\x00", None),
])
def test_files_are_recognised_by_their_first_bytes(head, kind):
    assert sniff(head) == kind


def test_a_declared_type_must_match_the_content_but_octet_stream_defers_to_it():
    assert check_declared("application/pdf", b"%PDF-1.7") == ("application/pdf", None)
    assert check_declared("application/octet-stream", b"%PDF-1.7") == ("application/pdf", None)
    assert check_declared("text/csv; charset=utf-8", b"a,b\n") == ("text/csv", None)
    stored, problem = check_declared("image/png", b"%PDF-1.7")
    assert stored is None and problem and "application/pdf" in problem


def test_attaching_fills_the_named_slot_and_keeps_earlier_documents():
    data = {"siteMap": {"option": "ATTACHED", "documentIds": ["a"]}}
    assert attach(data, "siteMap", "b")["siteMap"]["documentIds"] == ["a", "b"]
    assert attach({}, "documents.1", "d")["documents"] == [
        {}, {"option": "ATTACHED", "documentIds": ["d"]}]
    assert data["siteMap"]["documentIds"] == ["a"]  # the input is not modified
