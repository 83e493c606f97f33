"""Home pages: what each role should do now, computed from the lifecycle (one service per
role in :mod:`monev.home.services`; the pages are ``public.home`` and ``admin.index``)."""
