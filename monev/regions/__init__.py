"""Provinces and kabupaten/kota with their Kemendagri codes; kecamatan and desa/kelurahan."""
