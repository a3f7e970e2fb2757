"""Errors raised by the pure scheduling code.

    ScheduleError            any refused template, plan or change (a ValueError)
    ├── TemplateError        a protocol template is inconsistent
    ├── PlanError            a cohort plan cannot be built as asked
    └── ChangeError          a reschedule / cancel / shift / skip is refused

Each carries one or more `Problem`s: the input field at fault and a sentence that says
what to change. The server turns them into a 4xx page or a JSON problem body.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    field: str
    message: str


class ScheduleError(ValueError):
    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        if not problems:
            raise ValueError("a ScheduleError needs at least one problem")
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("; ".join(p.message for p in self.problems))

    @classmethod
    def single(cls, field: str, message: str) -> ScheduleError:
        return cls([Problem(field, message)])

    def by_field(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for problem in self.problems:
            out.setdefault(problem.field, []).append(problem.message)
        return out


class TemplateError(ScheduleError):
    pass


class PlanError(ScheduleError):
    pass


class ChangeError(ScheduleError):
    pass
