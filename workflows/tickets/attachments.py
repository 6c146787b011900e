"""What a ticket attachment may be: at most WORKFLOWS_TICKET_ATTACHMENT_MAX_BYTES, and one of
WORKFLOWS_TICKET_ATTACHMENT_TYPES, told by the file's first bytes as well as its name (a PDF
starts with "%PDF-", a PNG with its signature, a JPEG with FF D8 FF, DOCX and XLSX are ZIP
archives holding word/ or xl/, a text file has no NUL byte and reads as UTF-8 or GB18030).
The size is checked before anything is read."""

import codecs
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

SNIFF_BYTES = 8192


@dataclass(frozen=True)
class FileType:
    kind: str
    extension: str
    content_type: str


_BY_EXTENSION = {
    "pdf": FileType("pdf", "pdf", "application/pdf"),
    "png": FileType("png", "png", "image/png"),
    "jpg": FileType("jpeg", "jpg", "image/jpeg"),
    "jpeg": FileType("jpeg", "jpg", "image/jpeg"),
    "txt": FileType("txt", "txt", "text/plain"),
    "docx": FileType(
        "docx",
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "xlsx": FileType(
        "xlsx", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ),
}
_OFFICE_FOLDERS = {"docx": "word/", "xlsx": "xl/"}


def _head(uploaded_file: UploadedFile) -> bytes:
    uploaded_file.seek(0)
    head = uploaded_file.read(SNIFF_BYTES)
    uploaded_file.seek(0)
    return head


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    for encoding in ("utf-8", "gb18030"):
        # Incremental: the cut at SNIFF_BYTES may split the last character.
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return True
    return False


def _is_office(uploaded_file: UploadedFile, kind: str) -> bool:
    """A ZIP whose entries include the format's folder (the central directory only: nothing
    is decompressed)."""
    uploaded_file.seek(0)
    try:
        with zipfile.ZipFile(uploaded_file) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    finally:
        uploaded_file.seek(0)
    return "[Content_Types].xml" in names and any(
        name.startswith(_OFFICE_FOLDERS[kind]) for name in names
    )


def _content_matches(uploaded_file: UploadedFile, file_type: FileType) -> bool:
    head = _head(uploaded_file)
    if file_type.kind == "pdf":
        return head.startswith(b"%PDF-")
    if file_type.kind == "png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if file_type.kind == "jpeg":
        return head.startswith(b"\xff\xd8\xff")
    if file_type.kind == "txt":
        return _is_text(head)
    return head.startswith(b"PK\x03\x04") and _is_office(uploaded_file, file_type.kind)


def allowed_kinds() -> list[str]:
    return list(settings.WORKFLOWS_TICKET_ATTACHMENT_TYPES)


def attachment_check(uploaded_file: UploadedFile) -> FileType:
    """The file's type, or a ValidationError saying why it is refused."""
    limit = settings.WORKFLOWS_TICKET_ATTACHMENT_MAX_BYTES
    if uploaded_file.size is None or uploaded_file.size > limit:
        raise ValidationError(
            _("The file is too large: at most %(limit)s.") % {"limit": filesizeformat(limit)},
            code="too_large",
        )
    if uploaded_file.size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    name = uploaded_file.name or ""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    file_type = _BY_EXTENSION.get(extension)
    kinds = allowed_kinds()
    if file_type is None or file_type.kind not in kinds:
        raise ValidationError(
            _("This type of file is not accepted. Accepted: %(types)s.")
            % {"types": ", ".join(kinds)},
            code="type_not_allowed",
        )
    if not _content_matches(uploaded_file, file_type):
        raise ValidationError(
            _("The file's content is not a %(type)s file, whatever its name says.")
            % {"type": file_type.kind.upper()},
            code="content_mismatch",
        )
    return file_type
