"""Load the demo competition into an empty database (used by ``flask demo`` and make run)."""

from __future__ import annotations

from contextlib import suppress
from datetime import date

from sqlalchemy import select

from monev.audit import services as audit
from monev.auth.models import User
from monev.auth.passwords import hash_password
from monev.core.timeutil import utcnow
from monev.demo import competition, data
from monev.directory.models import Kim
from monev.extensions import db
from monev.regions import queries as regions
from monev.regions.models import District


def load(password: str) -> str:
    districts = {d.code: d for d in db.session.scalars(select(District))}
    if not districts:
        raise RuntimeError("No regions: run `flask --app monev db upgrade` first.")
    pw_hash = hash_password(password)  # hashed once: Argon2 is deliberately slow
    now = utcnow()

    def account(email, name, role, **extra):
        user = User(
            email=email,
            name=name,
            role=role,
            password_hash=pw_hash,
            active=True,
            password_changed_at=now,
            **extra,
        )
        db.session.add(user)
        return user

    admin = account(*data.ADMIN, role="admin")
    for email, name, code in data.OPERATORS:
        account(email, name, "operator", district_id=districts[code].id)
    for email, name, institution, _home in data.JUDGES:
        account(email, name, "judge", institution=institution)

    for slug, name, code, kec, kind, village, chair, members, sk, sk_date, web in data.KIMS:
        district = districts[code]
        kecamatan = regions.get_or_create_kecamatan(district.id, kec)
        kim = Kim(
            name=name,
            district_id=district.id,
            kecamatan=kecamatan,
            village=regions.get_or_create_village(kecamatan, kind, village),
            chair_name=chair,
            members_count=members,
            sk_number=sk,
            sk_date=date.fromisoformat(sk_date),
            website=web,
            email=f"kim.{slug}@demo.monev.id",
            phone="0812 5500 " + str(1000 + len(slug) * 37)[-4:],
            social_links=[f"https://www.instagram.com/kim.{slug}"],
        )
        kim.refresh_search_text()
        db.session.add(kim)
        db.session.flush()
        account(f"kim.{slug}@demo.monev.id", name, "kim", kim_id=kim.id)

    db.session.flush()

    figures = competition.load(admin)
    _demo_signing(admin)
    audit.record(
        "demo.loaded",
        "system",
        None,
        {
            "kims": len(data.KIMS),
            "judges": len(data.JUDGES),
            "operators": len(data.OPERATORS),
            **figures,
        },
    )
    return logins_text(password)


def _demo_signing(admin: User) -> None:
    """The demo's test signing certificate (monev.signing.demo) and its root, trusted."""
    from flask import current_app

    from monev.signing import demo, trust

    _p12, root = demo.make(current_app.instance_path)
    trust.add_root(root, actor=admin)
    demo.configure(current_app)


def ensure_demo_signing() -> str | None:
    """On a database that already holds the demo (``make run`` again, or a database made
    before the demo signed anything): create the demo's test signing certificate when its
    folder is missing, and trust its root. Only in development, only when the demo's admin
    account exists (so a real database is never given a test root). Returns the folder
    created, or None when there was nothing to do."""
    from flask import current_app

    from monev.core.errors import ServiceError
    from monev.signing import demo, trust

    if current_app.config.get("ENV_NAME") != "development":
        return None
    p12, root_pem = demo.paths(current_app.instance_path)
    if p12.exists() and root_pem.exists():
        return None
    admin = db.session.scalar(select(User).where(User.email == data.ADMIN[0]))
    if admin is None or admin.role != "admin":
        return None
    _p12, root = demo.make(current_app.instance_path)
    with suppress(ServiceError):  # already trusted
        trust.add_root(root, actor=admin)
    demo.configure(current_app)
    return str(p12.parent)


def logins_text(password: str) -> str:
    lines = [
        f"Demo accounts (password: {password})",
        f"  admin     {data.ADMIN[0]}",
        f"  operator  {data.OPERATORS[0][0]}  (Kutai Timur; more: operator.kukar@, .berau@ ...)",
        f"  judge     {data.JUDGES[0][0]}  (also juri2@ ... juri{len(data.JUDGES)}@)",
        f"  kim       kim.{data.KIMS[0][0]}@demo.monev.id  (one account per demo KIM)",
    ]
    return "\n".join(lines)
