"""Board test support (no tests here): a cohort with a board-ready meeting, and a `websockets` client
that speaks the board protocol."""
from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass
from typing import Any

import websockets

from models.clinical import Goal
from server import accounts
from tests.support.world import enroll, make_cohort, make_template, make_user

_ids = itertools.count(1)


def nested(depth: int) -> str:
    return '{"n":[' * (depth // 2) + "1" + "]}" * (depth // 2)


# Each as JSON text (json.dumps cannot write 2000 levels; it writes the strings as \ud800, \u0000).
HOSTILE = {
    "deep": nested(40),
    "deep_near_the_cap": nested(2000),  # about 8 KiB of brackets, under the 16 KiB cap
    "beyond_64_bits": str(2**64 + 1),
    "beyond_64_bits_negative": str(-(2**70)),
    "lone_surrogate": json.dumps("\ud800"),
    "surrogate_in_text": json.dumps("fine \udfff words"),
    "nul": json.dumps("a\x00b"),
}


@dataclass
class BoardWorld:
    meeting_id: int
    cohort_id: int
    tokens: dict[str, str]  # "fac1", "fac2", "coordinator", "member", "outsider"
    members: list[str]  # enrollment ids, as the board names them
    member_goal: str
    group_goal: str
    fac1_id: str
    emails: dict[str, str]


async def make_board_world(n_members: int = 3) -> BoardWorld:
    template = await make_template()
    fac1 = await make_user("facilitator", "Fiona Lead")
    fac2 = await make_user("facilitator", "Farid Second")
    cohort, meetings = await make_cohort(template, "Board test group", fac1)
    await cohort.facilitators.add(fac2)
    names = ["Maria Lopez", "Tom Hill", "Sara Kim", "Omar Diaz", "Lena Berg", "Ivo Petrov"]
    enrollments = []
    for name in names[:n_members]:
        enrollments.append(await enroll(cohort, await make_user("member", name)))
    member_goal = await Goal.create(cohort=cohort, enrollment=enrollments[0], text="Ask my sister for help")
    group_goal = await Goal.create(cohort=cohort, enrollment=None, text="Everyone gives positive feedback")
    outsider = await make_user("facilitator", "Otto Outside")
    coordinator = await make_user("coordinator", "Cora Boards")
    tokens, emails = {}, {}
    for key, user in (("fac1", fac1), ("fac2", fac2), ("coordinator", coordinator), ("outsider", outsider),
                      ("member", enrollments[0].member)):
        tokens[key] = (await accounts.create_api_token(user, "board tests"))[1]
        emails[key] = user.email
    return BoardWorld(meeting_id=meetings[3].id, cohort_id=cohort.id, tokens=tokens,
                      members=[str(e.id) for e in enrollments], member_goal=str(member_goal.id),
                      group_goal=str(group_goal.id), fac1_id=str(fac1.id), emails=emails)


class BoardClient:
    """One socket. Frames that are not the answer being waited for are kept, in order."""

    def __init__(self, ws: websockets.ClientConnection):
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.last_seq = 0
        self.welcome: dict[str, Any] = {}
        self.snapshot: dict[str, Any] | None = None
        # Set when this client sent a hello with a last_seq below what it holds: the server
        # then replays what follows that seq, so events from there on may come again.
        self.rewound_to: int | None = None

    @classmethod
    async def open(cls, ws_url: str, meeting_id: int, token: str | None, *, view: str = "facilitator",
                   hello: int | None = 0, epoch: str | None = None, **kwargs) -> BoardClient:
        # A bearer token, or the caller's own headers (a signed-in session's cookie and Origin).
        headers = {**({"Authorization": f"Bearer {token}"} if token else {}), **kwargs.pop("additional_headers", {})}
        ws = await websockets.connect(f"{ws_url}/boards/{meeting_id}/ws?view={view}", additional_headers=headers,
                                      open_timeout=10, **kwargs)
        client = cls(ws)
        client.welcome = await client.recv()
        assert client.welcome["type"] == "welcome", client.welcome
        if hello is not None:
            await client.hello(hello, epoch=epoch)
        return client

    async def recv(self, timeout: float = 10) -> dict[str, Any]:
        frame = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        self.frames.append(frame)
        if frame["type"] == "event":
            seq = frame["event"]["seq"]
            if self.rewound_to is not None and self.rewound_to < seq <= self.last_seq:
                return frame  # a replay this client asked for
            assert seq > self.last_seq, (seq, self.last_seq)
            self.events.append(frame["event"])
            self.last_seq = seq
        elif frame["type"] == "snapshot":
            self.snapshot = frame
            self.last_seq = frame["seq"]
        return frame

    async def until(self, predicate, timeout: float = 10) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            frame = await self.recv(max(0.01, deadline - asyncio.get_running_loop().time()))
            if predicate(frame):
                return frame

    async def hello(self, last_seq: int, *, epoch: str | None = None) -> dict[str, Any]:
        await self.send({"type": "hello", "last_seq": last_seq, "epoch": epoch or self.welcome["epoch"]})
        return await self.until(lambda f: f["type"] == "synced")

    async def send(self, frame: dict[str, Any] | str | bytes) -> None:
        await self.ws.send(frame if isinstance(frame, (str, bytes)) else json.dumps(frame))

    async def command(self, command: str, data: dict | None = None, *, id: str | None = None) -> dict[str, Any]:
        """Send a command; return its ack or error frame."""
        cid = id or f"t{next(_ids)}"
        await self.send({"type": "command", "id": cid, "command": command, "data": data or {}})
        return await self.until(lambda f: f["type"] in ("ack", "error") and f.get("id") == cid)

    async def ok(self, command: str, data: dict | None = None, **kw) -> int:
        answer = await self.command(command, data, **kw)
        assert answer["type"] == "ack", answer
        return answer["seq"]

    async def wait_seq(self, seq: int, timeout: float = 10) -> None:
        if self.last_seq < seq:
            await self.until(lambda f: self.last_seq >= seq, timeout)

    async def close(self) -> None:
        await self.ws.close()


async def present_all(client: BoardClient, world: BoardWorld) -> None:
    for member in world.members:
        await client.ok("mark_attendance", {"member": member, "status": "present"})


def turn_data(world: BoardWorld, protagonist: int = 0, **extra) -> dict[str, Any]:
    return {"protagonist": world.members[protagonist], "counterpart": {"kind": "facilitator", "id": world.fac1_id},
            "role_label": "my boss", "scenario": "Ask for a day off", **extra}


def command_grammar(world: BoardWorld) -> dict[str, dict[str, Any]]:
    """Every command of PROTOCOL.md with well-formed data for this world: each field is one a
    hostile value may take the place of (a list field's first item, a nested object's fields too)."""
    member, other = world.members[0], world.members[1]
    counterpart = {"kind": "facilitator", "id": world.fac1_id}
    return {
        "mark_attendance": {"member": member, "status": "present", "reason": "on time"},
        "start_checkin": {"order": [member, other]},
        "next_checkin": {"current": member},
        "end_checkin": {"current": member},
        "add_turn": {"protagonist": member, "counterpart": counterpart, "role_label": "my boss",
                     "scenario": "Ask for a day off", "goal": world.member_goal, "duration_s": 300},
        "update_turn": {"turn": "1", "counterpart": {"kind": "member", "id": other}, "role_label": "my sister",
                        "scenario": "Say no", "goal": world.member_goal, "duration_s": 240},
        "reorder_queue": {"order": ["1", "2"]},
        "favour_new_members": {},
        "start_turn": {"turn": "1"},
        "pause_turn": {"turn": "1"},
        "resume_turn": {"turn": "1"},
        "end_turn": {"turn": "1"},
        "skip_turn": {"turn": "1"},
        "start_role_reversal": {"turn": "1"},
        "start_feedback": {"turn": "1"},
        "next_feedback": {"turn": "1", "from_stage": "protagonist"},
        "record_next_step": {"turn": "1", "text": "Ask on Monday"},
        "start_timer": {"name": "agenda", "label": "Check-in", "duration_s": 600},
        "pause_timer": {"name": "agenda"},
        "resume_timer": {"name": "agenda"},
        "extend_timer": {"name": "agenda", "seconds": 60},
        "stop_timer": {"name": "agenda"},
        "rate_goal": {"goal": world.group_goal, "rating": 2},
        "set_goal_status": {"goal": world.group_goal, "status": "revised", "text": "Everyone speaks once"},
        "add_note": {"text": "A calm start", "member": member},
        "set_display_labels": {"mode": "initials"},
        "undo": {"seq": 2},
        "close_meeting": {"confirm_unmarked": False},
    }


def each_place(data: dict[str, Any], value: Any) -> list[dict[str, Any]]:
    """`data` with `value` in each place a value can be: every field, a list field's first
    item, each field of a nested object, and a field no command knows."""
    variants = [{**data, "unknown_field": value}]
    for field, current in data.items():
        if isinstance(current, list):
            variants.append({**data, field: [value, *current[1:]]})
        elif isinstance(current, dict):
            variants += [{**data, field: {**current, key: value}} for key in current]
        variants.append({**data, field: value})
    return variants
