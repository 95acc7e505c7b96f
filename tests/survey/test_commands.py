"""Every Candid command answers bad input with a message (``CommandError``), never a traceback.

The commands are discovered (a new one is covered without a change here) and their arguments read
from their own parsers: from plausible arguments, one thing at a time is made wrong — a study or
file that does not exist, an output folder that does not exist, a negative number, a choice not
offered, a file that is a folder, holds junk or chokes a parser (a cell past column ZZZ, JSON nested
100,000 deep, a study.json of the wrong shape).
"""

from __future__ import annotations

import argparse
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command, get_commands, load_command_class
from django.core.management.base import CommandError

from tests.conftest import SHIPPED_STUDY
from tests.survey.test_malformed_files import bad_cell_reference

pytestmark = pytest.mark.django_db

NOWHERE = "/nonexistent-candid-folder/sub/out"


def candid_commands() -> list[str]:
    return sorted(name for name, app in get_commands().items() if app == "survey")


def arguments(name: str) -> list[argparse.Action]:
    parser = load_command_class("survey", name).create_parser("manage.py", name)
    own = {"help", "version", "verbosity", "settings", "pythonpath", "traceback", "no_color", "force_color"}
    return [a for a in parser._actions if a.dest not in own and a.dest != "skip_checks"]


def plausible(action: argparse.Action, study: str, tmp_path: Path) -> str | None:
    """A value that should work for ``action`` on the shipped study (None: leave it out)."""
    if action.choices:
        return str(next(iter(action.choices)))
    if action.type is int:
        return "1"
    names = {action.dest, *(s.lstrip("-") for s in action.option_strings)}
    if names & {"study"}:
        return study
    if names & {"file"}:
        return str(SHIPPED_STUDY / "questionnaire.xlsx")
    if names & {"directory"}:
        return str(SHIPPED_STUDY)
    if names & {"output", "o"}:
        return str(tmp_path / "out")
    if action.required or not action.option_strings:
        return "x"
    return None


def bad_values(action: argparse.Action, tmp_path: Path) -> list[str]:
    names = {action.dest, *(s.lstrip("-") for s in action.option_strings)}
    if action.choices:
        return ["no-such-choice"]
    if action.type is int:
        return ["-1", "many"]
    if names & {"output", "o"}:
        return [NOWHERE]
    if names & {"file", "directory", "weights", "registry"}:
        junk = tmp_path / "junk.bin"
        junk.write_bytes(bytes(range(256)) * 8)
        empty = tmp_path / "empty"
        empty.mkdir(exist_ok=True)
        return [NOWHERE, str(junk), str(empty), *malformed(names, tmp_path)]
    if not action.option_strings:
        return ["no-such-thing"]
    return []


def malformed(names: set[str], tmp_path: Path) -> list[str]:
    """Files a parser chokes on (tests/survey/test_malformed_files.py): a cell past column ZZZ, JSON and
    TOML nested 100,000 deep, study bundles whose study.json is not JSON or not an object."""
    deep = tmp_path / "deep"
    deep.mkdir(exist_ok=True)
    files = {
        "deep.json": b"[" * 100_000 + b"]" * 100_000,
        "deep.toml": b"a = " + b"[" * 100_000 + b"]" * 100_000,
        "bad-cell.xlsx": bad_cell_reference(),
    }
    for name, content in files.items():
        (deep / name).write_bytes(content)
    found = [str(deep / name) for name in files]
    if "directory" in names:
        for name, content in {"not-json": b"[1,2", "a-list": b"[]", "no-title": b'{"slug": "x"}'}.items():
            folder = tmp_path / name
            shutil.copytree(SHIPPED_STUDY, folder, dirs_exist_ok=True)
            (folder / "study.json").write_bytes(content)
            found.append(str(folder))
    return found


def command_line(actions, values: dict[str, str]) -> list[str]:
    line: list[str] = []
    for action in actions:
        if action.dest not in values:
            continue
        if action.option_strings:
            line += [action.option_strings[-1], values[action.dest]]
        else:
            line.append(values[action.dest])
    return line


def test_every_command_answers_bad_input_with_a_message(shipped_study, make_user, tmp_path, settings):
    settings.DEBUG = True  # demo_accounts refuses to run without it: test the command, not the refusal
    make_user("cmd-owner", superuser=True)
    wrong, tried = [], 0
    for name in candid_commands():
        actions = arguments(name)
        base = {a.dest: v for a in actions if (v := plausible(a, shipped_study.slug, tmp_path)) is not None}
        for action in actions:
            if isinstance(action, argparse._StoreTrueAction | argparse._AppendAction):
                continue
            for bad in bad_values(action, tmp_path):
                line = command_line(actions, {**base, action.dest: bad})
                tried += 1
                # A count below zero is never meant (a seed may be any number).
                must_refuse = bad in {"-1", "many", "no-such-choice"} and action.dest != "seed"
                try:
                    call_command(name, *line, stdout=StringIO(), stderr=StringIO())
                except CommandError:
                    continue
                except BaseException as error:
                    wrong.append(f"manage.py {name} {' '.join(line)}: {type(error).__name__}: {error}")
                    continue
                if must_refuse:
                    wrong.append(f"manage.py {name} {' '.join(line)}: accepted")
    assert tried > 10
    assert not wrong, "\n".join(wrong)
