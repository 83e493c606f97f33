"""The demo's own signing certificate: a test PKI made on the spot (a root "DEMO — BUKAN
UNTUK PRODUKSI" and a signing certificate under it) so signed certificates and the check of
a PDF can be tried at once. Written to ``<instance>/demo-tte/``; used only by the
development configuration when nothing else is configured (monev/__init__.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

FOLDER = "demo-tte"
P12 = "tte-demo.p12"
PASSPHRASE = "demo-bukan-rahasia"  # noqa: S105 (a test certificate, clearly named)


def paths(instance: str | Path) -> tuple[Path, Path]:
    folder = Path(instance) / FOLDER
    return folder / P12, folder / "root-demo.pem"


def make(instance: str | Path) -> tuple[Path, bytes]:
    """Create (once) the demo PKI; returns the PKCS#12 path and the root's DER."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    p12, root_pem = paths(instance)
    if p12.exists() and root_pem.exists():
        root = x509.load_pem_x509_certificate(root_pem.read_bytes())
        return p12, root.public_bytes(serialization.Encoding.DER)
    p12.parent.mkdir(parents=True, exist_ok=True)

    def name(common: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "ID"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Monev DEMO (sertifikat uji)"),
                x509.NameAttribute(NameOID.COMMON_NAME, common),
            ]
        )

    now = datetime.now(UTC)
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root_name = name("Root CA DEMO Monev — BUKAN UNTUK PRODUKSI")
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .sign(root_key, hashes.SHA256())
    )  # fmt: skip
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("Kepala Diskominfo DEMO (sertifikat uji)"))
        .issuer_name(root_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=730))
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=True, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .sign(root_key, hashes.SHA256())
    )  # fmt: skip
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"tte-demo",
            key,
            cert,
            [root],
            serialization.BestAvailableEncryption(PASSPHRASE.encode()),
        )
    )
    root_pem.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    return p12, root.public_bytes(serialization.Encoding.DER)


def configure(app) -> None:
    """Development only: sign with the demo certificate when it exists and nothing else is
    configured (``flask demo`` creates it)."""
    from monev.signing.backends import backend_name

    if app.config.get("ENV_NAME") != "development" or backend_name(app.config):
        return
    p12, _root = paths(app.instance_path)
    if p12.exists():
        app.config.update(SIGNING_PKCS12=str(p12), SIGNING_PKCS12_PASSPHRASE=PASSPHRASE)
