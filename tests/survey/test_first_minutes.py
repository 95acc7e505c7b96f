"""The first minutes of a new user: the demo's long step shows a bar with counts and time left, and
the demo ends with the researcher's address and account."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_simulating_respondents_shows_a_progress_bar(shipped_study, capsys):
    call_command(
        "simulate_respondents",
        shipped_study.slug,
        "-n",
        "2",
        "--workers",
        "1",
        "--progress",
        stdout=io.StringIO(),
    )
    bar = capsys.readouterr().err
    assert "Synthetic respondents" in bar and "4/4" in bar and re.search(r"\[\d\d:\d\d<\d\d:\d\d", bar)


def test_the_demo_numbers_its_steps_and_ends_with_the_researchers_address_and_account():
    recipe = (ROOT / "Makefile").read_text().split("\ndemo:", 1)[1].split("\nserve:", 1)[0]
    steps = re.findall(r"\[(\d)/5\]", recipe)
    assert steps == ["1", "2", "3", "4", "5"]
    assert "--progress" in recipe
    tail = recipe.rsplit("researcher's workbench", 1)[1]
    assert "/studio/" in tail and "demo-researcher" in tail and "password" in tail
