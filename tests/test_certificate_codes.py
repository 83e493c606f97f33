"""Certificate codes a person can type from paper: new codes are Crockford base32 in groups
of four with a keyed check (a mistyped or forged code is refused before any lookup, with
advice to check the characters), typed input is read leniently (case, spaces, hyphens,
I/L/O), codes of certificates issued before in the older format keep verifying, and the PDF
check finds either format printed and in the QR code."""

from __future__ import annotations

import re
import secrets
from unittest import mock

import pytest
from itsdangerous import Signer

from monev.certificates import codes, pdfcheck, services
from monev.certificates.models import Certificate
from monev.core.database import write_intent
from monev.extensions import db
from tests.conftest import count_queries, t
from tests.pdf import pdf_text
from tests.test_certificates import _cert, _issue, setup  # noqa: F401  (the fixture)

NEW_CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){4}$")
MISTYPED = (
    "Check each character against the certificate (upper or lower case, spaces and hyphens do "
    "not matter), or scan the QR code: that is the surest way. If the code is typed exactly as "
    "printed and still not valid, the document may be forged."
)


def _with_body(app, body: str) -> str:
    """The code new_code() makes when its random part is ``body`` (16 characters)."""
    value = 0
    for char in body:
        value = value * 32 + codes.ALPHABET.index(char)
    with app.app_context(), mock.patch.object(codes.secrets, "randbits", return_value=value):
        return codes.new_code()


def _old_format(app) -> str:
    """A code as certificates were issued before: ``<random>.<signature>`` (itsdangerous)."""
    signer = Signer(app.config["SECRET_KEY"], salt="monev.certificate")
    return signer.sign(secrets.token_urlsafe(12)).decode("ascii")


def _set_code(app, cert_id: int, code: str) -> None:
    with app.app_context(), write_intent():
        db.session.get(Certificate, cert_id).code = code
        db.session.commit()


def test_new_codes_are_short_grouped_crockford_with_a_keyed_check(app):
    with app.app_context():
        made = [codes.new_code() for _ in range(300)]
        assert all(NEW_CODE.match(code) and len(code) == 24 for code in made), made[:3]
        assert len(set(made)) == len(made)
        assert all(codes.valid_signature(code) for code in made)
        assert codes.canonical(made[0]) == made[0]  # stored as printed
    # The check is keyed: another installation's secret refuses them all.
    app.config["SECRET_KEY"] = "another-secret"
    with app.app_context():
        assert not any(codes.valid_signature(code) for code in made)


def test_any_one_wrong_character_or_swap_fails_the_check(app):
    code = _with_body(app, "7K3PQ9XD2MWT5RVA")
    chars = code.replace("-", "")
    with app.app_context():
        assert codes.valid_signature(code)
        for i, char in enumerate(chars):
            for other in codes.ALPHABET.replace(char, ""):
                typo = chars[:i] + other + chars[i + 1 :]
                assert not codes.valid_signature(typo), typo
        for i in range(len(chars) - 1):
            if chars[i] != chars[i + 1]:
                swapped = chars[:i] + chars[i + 1] + chars[i] + chars[i + 2 :]
                assert not codes.valid_signature(swapped), swapped
        assert not codes.valid_signature(chars[:-1])  # a character left out
        assert not codes.valid_signature(chars + "0")  # one too many


def test_typed_input_is_read_in_any_case_with_spaces_hyphens_and_look_alikes(app):
    code = _with_body(app, "10KM7K3PQ9XD2MW0")
    assert code.startswith("10KM-") and "1" in code and "0" in code
    plain = code.replace("-", "")
    typed = [
        code.lower(),
        plain,
        plain.lower(),
        " ".join(code.split("-")).lower(),
        f"  {plain[:3]} {plain[3:11]}-{plain[11:]}  ",
        code.replace("1", "I").replace("0", "O"),
        code.replace("1", "l").replace("0", "o").lower(),
        code.replace("1", "L").replace("-", "\u2013"),  # an en dash from a word processor
    ]
    with app.app_context():
        assert [codes.canonical(value) for value in typed] == [code] * len(typed)
        assert codes.tidy(code.lower().replace("-", " ")) == code
        assert codes.canonical("U" + plain[1:]) is None  # U is not in the alphabet
        assert codes.canonical("") is None and codes.canonical("x" * 500) is None


def test_a_typed_code_in_lowercase_with_spaces_opens_its_page(app, setup, client):  # noqa: F811
    (cert_id, _other) = _issue(app, setup, "participant")
    code = _cert(app, cert_id)["code"]
    typed = " ".join(code.lower().split("-"))
    response = client.get("/verify", query_string={"code": typed})
    assert response.status_code == 302 and response.location.endswith(f"/verify/{code}")
    assert "notice-ok" in client.get(response.location).get_data(as_text=True)
    # Lenient in the URL too (a code typed into the address bar).
    assert "notice-ok" in client.get(f"/verify/{code.lower()}").get_data(as_text=True)


def test_an_old_format_code_still_verifies(app, setup, client):  # noqa: F811
    (cert_id, _other) = _issue(app, setup, "participant")
    old = _old_format(app)
    _set_code(app, cert_id, old)
    page = client.get(f"/verify/{old}")
    assert page.status_code == 200 and "notice-ok" in page.get_data(as_text=True)
    typed = client.get("/verify", query_string={"code": f" {old[:20]} {old[20:]} "})
    assert typed.location.endswith(f"/verify/{old}")
    # Old codes stay exact: case matters, and a changed character is refused.
    assert client.get(f"/verify/{old.swapcase()}").status_code == 404
    with app.test_request_context():
        cert = db.session.get(Certificate, cert_id)
        assert services.by_code(old) is cert
        flat = "".join(pdf_text(services.pdf(cert)).split())
    assert f"Kode:{old}" in flat  # a re-rendered old certificate prints its own code


def test_a_mistyped_code_is_refused_before_any_lookup_and_says_what_to_check(
    app,
    setup,  # noqa: F811
    client,
):
    (cert_id, _other) = _issue(app, setup, "participant")
    code = _cert(app, cert_id)["code"]
    first = code[0]
    typo = ("8" if first != "8" else "9") + code[1:]  # 8 for B, say
    with app.app_context(), count_queries(db.engine) as statements:
        response = client.get(f"/verify/{typo.lower()}")
    assert response.status_code == 404
    assert not [s for s in statements if "certificates" in s.lower()], statements
    with app.app_context(), count_queries(db.engine) as statements:
        assert client.get(f"/verify/{code}").status_code == 200
    assert [s for s in statements if "certificates" in s.lower()]  # the right code is looked up
    html = response.get_data(as_text=True)
    assert t(app, "This code is not correct: it was probably mistyped.") in html
    assert t(app, MISTYPED) in html
    assert f'value="{typo}"' in html  # kept, in capitals and groups, to correct
    # A well-formed code that passes its check but belongs to no certificate: the old words.
    with app.app_context():
        unknown = codes.new_code()
    html = client.get(f"/verify/{unknown}").get_data(as_text=True)
    assert t(app, "This code is not correct: it was probably mistyped.") not in html
    assert t(app, "Not valid.") in html and "notice-bad" in html


def test_the_form_hint_shows_the_new_format(app, client):
    html = client.get("/verify").get_data(as_text=True)
    assert "7K3P-Q9XD-2MWT-5RVA-H4CN" in html and "AbC12dEf3Gh4iJk5" not in html


@pytest.mark.parametrize("kind", ["issued", "letters at the line ends", "old format"])
def test_the_pdf_check_finds_the_code_printed_and_in_the_qr(app, setup, kind):  # noqa: F811
    (cert_id, _other) = _issue(app, setup, "participant")
    if kind == "letters at the line ends":
        _set_code(app, cert_id, _with_body(app, "7K3PQ9XD2MWTABCD"))
    elif kind == "old format":
        _set_code(app, cert_id, _old_format(app))
    with app.test_request_context():
        cert = db.session.get(Certificate, cert_id)
        data = services.pdf(cert)
        assert pdfcheck.codes_in(data) == (cert.code, cert.code)
        result = pdfcheck.check(data)
        assert result.cert is cert and result.record_state == "valid"


def test_the_printed_new_code_is_large_and_in_groups(app, setup):  # noqa: F811
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    (cert_id, _other) = _issue(app, setup, "participant")
    with app.test_request_context():
        cert = db.session.get(Certificate, cert_id)
        data = services.pdf(cert)
    document = pdfium.PdfDocument(data)
    try:
        textpage = document[0].get_textpage()
        text = textpage.get_text_range()
        # Three groups, then two on the next line, under "Kode:".
        assert f"Kode: {cert.code[:14]}\r\n{cert.code[15:]}" in text, text[-120:]
        start = text.index(cert.code[:14])
        sizes = {
            round(pdfium_c.FPDFText_GetFontSize(textpage, i))
            for i in range(start, start + len(cert.code))
            if not text[i].isspace()
        }
        textpage.close()
    finally:
        document.close()
    assert min(sizes) >= 8, sizes  # the URL above it is 5.5 pt
