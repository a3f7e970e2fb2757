"""The demo's people: who they are, their passwords, authenticators and `demo --json` logins."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp

from models.accounts import ApiToken, FactorKind, Role, SecondFactor, User
from server import accounts
from server.supervision import assignments

DOMAIN = "demo.groupipt.example"
ZONE = "Europe/London"


@dataclass(frozen=True)
class Person:
    key: str
    name: str
    role: Role


STAFF = [
    Person("coordinator", "Carmen Okafor", Role.COORDINATOR),
    Person("facilitator1", "Farah Haddad", Role.FACILITATOR),
    Person("facilitator2", "Tomasz Nowak", Role.FACILITATOR),
]
# A clinician who facilitates no demo cohort and supervises both facilitators. Not in
# `users` of `demo --json` (which promises two facilitators) but beside it, as "supervisor".
SUPERVISOR = Person("supervisor", "Dr Nadia Rahman", Role.FACILITATOR)


def new_password() -> str:
    return "demo-" + secrets.token_urlsafe(9)


async def person(who: Person, password: str, existing: User | None = None) -> User:
    """The demo person, made once; each load gives them a new password and ends their sessions."""
    hasher = accounts.Passwords("cheapest")  # demo only: fast to load; real accounts use argon2 defaults
    password_hash = await hasher.hash(password)
    email = f"{who.key}@{DOMAIN}"
    user = existing or await User.get_or_none(email=email)
    if user is None:
        return await User.create(email=email, display_name=who.name, role=who.role,
                                 password_hash=password_hash, time_zone=ZONE)
    user.password_hash = password_hash
    user.session_epoch += 1
    await user.save(update_fields=["password_hash", "session_epoch"])
    return user


async def supervisor(people: dict[str, User], password: str) -> User:
    """The demo's supervisor, marked a clinician, supervising both facilitators."""
    user = await person(SUPERVISOR, password)
    if user.clinician is not True:
        user.clinician = True
        await user.save(update_fields=["clinician"])
    await assignments.set_supervisees(user, [people["facilitator1"].id, people["facilitator2"].id],
                                      by=people["coordinator"])
    return user


async def login_json(user: User, password: str, feed_url: str | None, now: datetime) -> dict:
    """A login for `demo --json`: a new API token each load, and staff's authenticator secret."""
    await ApiToken.filter(user=user, name="demo", revoked_at=None).update(revoked_at=now)
    _, token = await accounts.create_api_token(user, "demo")
    entry = {
        "email": user.email, "password": password, "role": user.role.value, "name": user.display_name,
        "api_token": token, "feed_url": feed_url,
    }
    if user.role != Role.MEMBER:  # staff sign in with a second factor: scripts compute codes from this
        entry["totp_secret"] = await _demo_totp(user, now)
    return entry


async def _demo_totp(user: User, now: datetime) -> str:
    """A fresh authenticator for a demo staff login (its secret goes into `demo --json`)."""
    await SecondFactor.filter(user=user).delete()
    factor = await SecondFactor.create(user=user, kind=FactorKind.TOTP, name="demo", secret=pyotp.random_base32(),
                                       confirmed_at=now)
    return factor.secret
