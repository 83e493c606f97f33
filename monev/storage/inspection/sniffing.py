"""The type of a file from its leading bytes (puremagic), never from its name."""

from __future__ import annotations

from flask_babel import gettext as _

from monev.storage.inspection.filetypes import (
    EVIDENCE_TYPES,
    MARKUP_EXTS,
    MARKUP_MIMES,
    MARKUP_RE,
    PROGRAM_EXTS,
    SNIFFED,
    Refused,
    markup_message,
    type_list,
)


def sniff(head: bytes, accepted: tuple[str, ...] = EVIDENCE_TYPES) -> str:
    """Our type key for the leading bytes ("zip" for an Office package), or a refusal that
    names the ``accepted`` types (those of the form, not every evidence type)."""
    import puremagic

    if not head:
        raise Refused(_("The file is empty."))
    try:
        matches = puremagic.magic_string(head)
    except puremagic.PureError:
        matches = []
    except Exception:  # a sniffer bug must not become a 500
        matches = []
    if not matches:
        if MARKUP_RE.search(head[:4096]):
            raise Refused(markup_message())
        raise Refused(
            _(
                "The type of this file could not be recognised from its content. "
                "Accepted: %(types)s.",
                types=type_list(accepted),
            )
        )
    top = matches[0]
    best = [m for m in matches if m.confidence >= top.confidence]
    if any(m.mime_type in MARKUP_MIMES or m.extension.lower() in MARKUP_EXTS for m in best):
        raise Refused(markup_message())
    if any(
        m.extension.lower() in PROGRAM_EXTS or "executable" in (m.name or "").lower()
        for m in matches
    ) and not any(m.mime_type in SNIFFED for m in best):
        raise Refused(
            _(
                "This file is a program (%(what)s). Programs are never accepted, whatever "
                "their name.",
                what=_what(matches),
            )
        )
    for match in best:
        key = SNIFFED.get(match.mime_type)
        if key:
            return key
    raise Refused(
        _(
            "This file is not one of the accepted types (its content looks like: %(what)s). "
            "Accepted: %(types)s.",
            what=_what(matches),
            types=type_list(accepted),
        )
    )


def _what(matches) -> str:
    top = matches[0]
    return (top.name or top.extension or "?").strip()[:80]
