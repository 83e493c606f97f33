"""Electronic signatures (TTE) on the PDFs Monev makes, and the check of a PDF itself.

* :mod:`~monev.signing.backends` — one interface, three backends chosen in settings: a
  PKCS#12 file, a PKCS#11 token, a remote BSrE-style signing service; PAdES B-B, or B-T with
  an RFC 3161 timestamp when a TSA is configured; a visible field where the signatory signs;
* :mod:`~monev.signing.placement` — where that field goes (above the signatory's name);
* :mod:`~monev.signing.verification` — is a PDF's signature intact, does it cover the whole
  file, who signed and when, does the signer chain to a trusted root;
* :mod:`~monev.signing.models` / :mod:`~monev.signing.trust` — the trusted roots the
  organiser uploads, and the signing certificate's subject and expiry.

Without a backend configured nothing is signed: documents are exactly as before.
"""
