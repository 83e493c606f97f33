"""The KIM directory: every Komunitas Informasi Masyarakat with its profile."""
