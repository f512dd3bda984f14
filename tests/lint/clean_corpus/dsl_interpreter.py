"""A small workflow DSL: a tree of sequences, parallel branches and activity calls."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

import continuum


class Call(BaseModel):
    kind: Literal["call"] = "call"
    activity: str
    arguments: list[str] = []
    result: str | None = None


class Sequence(BaseModel):
    kind: Literal["sequence"] = "sequence"
    steps: list[Call | Parallel | Sequence]


class Parallel(BaseModel):
    kind: Literal["parallel"] = "parallel"
    branches: list[Call]


class Program(BaseModel):
    variables: dict[str, str] = {}
    root: Sequence


@continuum.activity
def upper(text: str) -> str:
    return text.upper()


@continuum.activity
def concat(left: str, right: str) -> str:
    return left + right


@continuum.activity
def reverse(text: str) -> str:
    return text[::-1]


ACTIVITIES = {"upper": upper, "concat": concat, "reverse": reverse}


def run_call(call: Call, variables: dict[str, str]) -> None:
    args = [variables.get(name, name) for name in call.arguments]
    value = continuum.execute(ACTIVITIES[call.activity], *args)
    if call.result:
        variables[call.result] = value


def run_parallel(block: Parallel, variables: dict[str, str]) -> None:
    handles = [
        continuum.start_activity(
            ACTIVITIES[call.activity], *[variables.get(a, a) for a in call.arguments]
        )
        for call in block.branches
    ]
    for call, value in zip(block.branches, continuum.gather(*handles), strict=True):
        if call.result:
            variables[call.result] = value


def run_sequence(block: Sequence, variables: dict[str, str]) -> None:
    for step in block.steps:
        if isinstance(step, Call):
            run_call(step, variables)
        elif isinstance(step, Parallel):
            run_parallel(step, variables)
        else:
            run_sequence(step, variables)


@continuum.workflow
def interpret(program: Program) -> dict[str, str]:
    variables = dict(program.variables)
    run_sequence(program.root, variables)
    return variables
