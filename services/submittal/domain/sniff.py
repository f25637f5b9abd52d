"""What an uploaded file really is, from its first bytes, and whether that matches its claim."""

from __future__ import annotations

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
TIFF = "image/tiff"
ZIP_OFFICE = "application/zip"
TEXT = "text/plain"

# Declared types each sniffed kind may travel under (browsers are not consistent).
ACCEPTED_DECLARATIONS: dict[str, set[str]] = {
    PDF: {PDF, "application/x-pdf"},
    PNG: {PNG},
    JPEG: {JPEG, "image/jpg", "image/pjpeg"},
    GIF: {GIF},
    TIFF: {TIFF},
    ZIP_OFFICE: {
        ZIP_OFFICE,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    },
    TEXT: {TEXT, "text/csv"},
}
ALLOWED = ", ".join(sorted(t for types in ACCEPTED_DECLARATIONS.values() for t in types))


def sniff(head: bytes) -> str | None:
    """The content type of a file from its first bytes, or None if it is not one we accept."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return TIFF
    if head.startswith(b"PK\x03\x04"):
        return ZIP_OFFICE
    if head and b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as error:
            # A multi-byte character cut at the end of the sniffed window is still text.
            if error.start < len(head) - 3:
                return None
        return TEXT
    return None


def check_declared(declared: str | None, head: bytes) -> tuple[str | None, str | None]:
    """(content type to store, None) when acceptable, else (None, why not)."""
    actual = sniff(head)
    if actual is None:
        return None, f"This file type is not accepted; upload one of: {ALLOWED}."
    claim = (declared or "").split(";")[0].strip().lower()
    if claim in ("", "application/octet-stream"):
        return actual, None
    if claim not in ACCEPTED_DECLARATIONS[actual]:
        return None, (f"The file was declared as {claim} but its content is {actual}; "
                      "send the right Content-Type.")
    return claim, None
