"""Who may use which endpoint, enforced for every request before any view runs.

Every endpoint resolves to exactly one rule: a rule set on the view with :func:`public`,
:func:`signed_in` or :func:`roles`, else the default of its blueprint
(:func:`blueprint_roles`). An endpoint without a rule is refused with 403 (deny by default)
and ``tests/test_access_matrix.py`` fails until the new route is listed there with the roles
that may use it.

Object-level rules (an operator sees only their district, a KIM only its entry) are applied
by the domain's queries and services; these rules are about roles.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, current_app, has_request_context, request
from flask_login import current_user

ADMIN, OPERATOR, KIM, JUDGE = "admin", "operator", "kim", "judge"
ALL_ROLES = frozenset({ADMIN, OPERATOR, KIM, JUDGE})


@dataclass(frozen=True)
class Rule:
    """``roles`` empty and ``public`` true: anyone; otherwise a signed-in user with a role."""

    public: bool = False
    roles: frozenset[str] = frozenset()

    def allows(self, user) -> bool:
        if self.public:
            return True
        return bool(user.is_authenticated) and user.role in self.roles


PUBLIC = Rule(public=True)
SIGNED_IN = Rule(roles=ALL_ROLES)

_VIEW_ATTR = "_monev_access_rule"
_blueprint_rules: dict[str, Rule] = {}


def _mark(rule: Rule):
    def decorator(view):
        setattr(view, _VIEW_ATTR, rule)
        return view

    return decorator


def public(view):
    """Anyone, signed in or not."""
    return _mark(PUBLIC)(view)


def signed_in(view):
    """Any signed-in user, whatever the role."""
    return _mark(SIGNED_IN)(view)


def roles(*names: str):
    """Signed-in users with one of these roles."""
    unknown = set(names) - ALL_ROLES
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")
    return _mark(Rule(roles=frozenset(names)))


def blueprint_roles(bp: Blueprint, *names: str) -> None:
    """Default rule for every view of ``bp`` that sets none of its own."""
    _blueprint_rules[bp.name] = PUBLIC if not names else Rule(roles=frozenset(names))


def rule_for(endpoint: str | None) -> Rule | None:
    if endpoint is None:
        return None
    if endpoint == "static":
        return PUBLIC
    view = current_app.view_functions.get(endpoint)
    rule = getattr(view, _VIEW_ATTR, None)
    if rule is not None:
        return rule
    blueprint = endpoint.rsplit(".", 1)[0] if "." in endpoint else None
    return _blueprint_rules.get(blueprint) if blueprint else None


def signed_in_user():
    """The user signed in on the current request, or None (anonymous, or no request). The
    request layer's answer to "who acts?", registered by ``create_app`` as the audit log's
    default actor; services never read the session themselves."""
    if has_request_context() and current_user.is_authenticated:
        return current_user
    return None


def enforce() -> None:
    """``before_request`` hook: 404 for unknown URLs, login for anonymous, 403 otherwise."""
    if request.endpoint is None:
        return  # routing failed; Flask raises the 404/405 itself
    rule = rule_for(request.endpoint)
    if rule is None:
        current_app.logger.error("No access rule for endpoint %s: refused", request.endpoint)
        abort(403)
    if rule.allows(current_user):
        return
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    abort(403)
