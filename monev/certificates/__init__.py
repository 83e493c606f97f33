"""Certificates: numbered, QR-verifiable PDFs for winners, participants and judges."""
