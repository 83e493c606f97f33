"""A certificate's name (subject or issuer) as people read it, in the user's language:
"Nama umum: Kepala Diskominfo; Organisasi: Pemprov Kaltim; Negara: ID", built from the
name's attributes (asn1crypto's ``human_friendly`` is English only)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# In the order people read them: who, then where they belong. Other attributes follow in
# the certificate's own order, under asn1crypto's (English) name for them.
LABELS = {
    "common_name": _l("Common name"),
    "title": _l("Title (position)"),
    "given_name": _l("Given name"),
    "surname": _l("Surname"),
    "pseudonym": _l("Pseudonym"),
    "serial_number": _l("Serial number"),
    "email_address": _l("Email"),
    "organizational_unit_name": _l("Unit"),
    "organization_name": _l("Organisation"),
    "organization_identifier": _l("Organisation identifier"),
    "street_address": _l("Street address"),
    "locality_name": _l("City or regency"),
    "state_or_province_name": _l("Province"),
    "postal_code": _l("Postal code"),
    "country_name": _l("Country"),
    "domain_component": _l("Domain component"),
}


def describe(name) -> str:
    """``name`` (an asn1crypto ``x509.Name``) as "Label: value; Label: value"."""
    from asn1crypto.x509 import NameType

    values: dict[str, list[str]] = {}
    for rdn in name.chosen:
        for attribute in rdn:
            key = attribute["type"].native
            value = attribute["value"].native
            values.setdefault(key, []).append(str(value))
    order = [k for k in LABELS if k in values] + [k for k in values if k not in LABELS]
    parts = []
    for key in order:
        label = LABELS.get(key) or NameType.map(key).replace("_", " ").capitalize()
        parts.append(f"{label}: {', '.join(values[key])}")
    return "; ".join(parts)
