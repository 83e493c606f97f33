"""Certificates, the entry point the views, the CLI and the batch job call. Each concern
lives in its own module:

* :mod:`~monev.certificates.codes` — signed public codes;
* :mod:`~monev.certificates.numbering` — numbers from the event's pattern;
* :mod:`~monev.certificates.recipients` — who receives which certificate;
* :mod:`~monev.certificates.issuing` — issue, revoke, reissue;
* :mod:`~monev.certificates.queries` — reading certificates, who may download;
* :mod:`~monev.certificates.qr` — the verification URL and its QR code;
* :mod:`~monev.certificates.design` — a certificate's content as plain values;
* :mod:`~monev.certificates.files` — PDFs in chunks, files, merging;
* :mod:`~monev.certificates.settings` — the event's certificate settings and images;
* :mod:`~monev.certificates.preview` — the live preview of the design.

Services flush; requests commit.
"""

from __future__ import annotations

from monev.certificates.codes import (
    canonical,
    new_code,
    tidy,
    valid_signature,
)
from monev.certificates.design import (
    DEFAULT_TEXT_COLOUR,
    DEFAULT_TEXTS,
    DEFAULT_TITLES,
    DOCUMENT_LOCALE,
    TEMPLATE,
    context,
    design,
    document_date,
    one_pass_html,
    page_fields,
    stored_image,
)
from monev.certificates.files import (
    CHUNK,
    MIN_RUN,
    filename,
    merge,
    pdf,
    pdfs,
    write_files,
)
from monev.certificates.issuing import (
    issue,
    reissue,
    revoke,
)
from monev.certificates.numbering import (
    format_number,
    lock_numbering,
    next_seq,
)
from monev.certificates.preview import (
    SampleCertificate,
    preview_png,
    sample_certificate,
)
from monev.certificates.qr import (
    QR_BORDER,
    QR_BOX,
    qr_matrix,
    qr_operators,
    qr_svg,
    verify_url,
)
from monev.certificates.queries import (
    by_code,
    for_event,
    for_user,
    may_download,
)
from monev.certificates.recipients import (
    SUBJECTS,
    Subject,
    judge_subjects,
    kim_detail,
    participant_subjects,
    winner_subjects,
)
from monev.certificates.settings import (
    BACKGROUND_BOX,
    IMAGE_MAX_BYTES,
    IMAGE_MAX_PIXELS,
    SETTINGS_TEXT_FIELDS,
    SIGNATURE_BOX,
    apply_settings,
    save_settings,
    settings_for,
)

__all__ = [
    "BACKGROUND_BOX",
    "CHUNK",
    "DEFAULT_TEXTS",
    "DEFAULT_TEXT_COLOUR",
    "DEFAULT_TITLES",
    "DOCUMENT_LOCALE",
    "IMAGE_MAX_BYTES",
    "IMAGE_MAX_PIXELS",
    "MIN_RUN",
    "QR_BORDER",
    "QR_BOX",
    "SETTINGS_TEXT_FIELDS",
    "SIGNATURE_BOX",
    "SUBJECTS",
    "SampleCertificate",
    "Subject",
    "TEMPLATE",
    "apply_settings",
    "by_code",
    "canonical",
    "context",
    "design",
    "document_date",
    "filename",
    "for_event",
    "for_user",
    "format_number",
    "issue",
    "judge_subjects",
    "kim_detail",
    "lock_numbering",
    "may_download",
    "merge",
    "new_code",
    "next_seq",
    "one_pass_html",
    "page_fields",
    "participant_subjects",
    "pdf",
    "pdfs",
    "preview_png",
    "qr_matrix",
    "qr_operators",
    "qr_svg",
    "reissue",
    "revoke",
    "sample_certificate",
    "save_settings",
    "settings_for",
    "stored_image",
    "tidy",
    "valid_signature",
    "verify_url",
    "winner_subjects",
    "write_files",
]
