"""Second factors, sessions and re-authentication (issue 18)."""
from models.accounts import SecondFactor
from tests.integration.authz_rows import DENY, LOGIN, Row, any_user, coordinator_only, public


async def _coordinator_factor(world) -> int:
    return (await SecondFactor.filter(user=world.users["coordinator"], confirmed_at__isnull=False).first()).id


ROWS = [
    public("GET", "/login/second-factor", note="without a password step first: back to /login"),
    public("POST", "/login/second-factor"),
    any_user("GET", "/login/attempts", note="shown once after sign-in; otherwise on to /"),
    any_user("GET", "/account/second-factor"),
    any_user("POST", "/account/second-factor", note="no code: 400"),
    Row("POST", "/account/second-factor/{factor_id}/remove", anon=LOGIN, member=DENY, other_member=DENY,
        other_facilitator=DENY, facilitator=DENY, coordinator="ok", params={"factor_id": _coordinator_factor},
        note="only the owner; staff may not remove their last factor (400)"),
    any_user("POST", "/account/recovery-codes", note="members without a factor: 400"),
    Row("POST", "/account/sessions/{session_id}/end", anon=LOGIN, member=DENY, other_member=DENY,
        other_facilitator=DENY, facilitator=DENY, coordinator=DENY, params={"session_id": lambda w: 999999},
        note="someone else's or no session: 404"),
    any_user("POST", "/account/reauthenticate", note="no proof: 400"),
    coordinator_only("POST", "/people/{user_id}/second-factors/reset"),
    any_user("GET", "/session/status"),
    any_user("POST", "/session/keepalive"),
    # Passkeys (WebAuthn): options are JSON; an empty answer is a 400 that adds nothing.
    any_user("GET", "/account/passkeys/new"),
    any_user("POST", "/account/passkeys/options", note="a fresh sign-in needs no proof: creation options"),
    any_user("POST", "/account/passkeys", note="no answer from an authenticator: 400"),
    Row("POST", "/account/second-factor/{factor_id}/rename", anon=LOGIN, member=DENY, other_member=DENY,
        other_facilitator=DENY, facilitator=DENY, coordinator="ok", params={"factor_id": _coordinator_factor},
        note="only the owner; an empty name: 400"),
    public("POST", "/login/passkey/options", note="request options for any passkey of this site"),
    public("POST", "/login/passkey", note="no answer: 400 on the sign-in page"),
    coordinator_only("POST", "/people/{user_id}/role", note="no role: 400, nothing changed"),
]
