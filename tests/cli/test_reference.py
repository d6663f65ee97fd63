"""docs/cli.md is generated from the Typer app (``ilrs.cli.reference``) and kept current by this test."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ilrs.cli.reference import NOTES, reference_markdown
from tests.clirunner import assert_ok, invoke, output

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


@pytest.fixture(scope="module")
def reference():
    return reference_markdown()


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"^## `ilrs ([^`]+)`$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_reference_document_is_current(reference):
    """Regenerate it when a command, option, default or help text changes."""
    assert DOC.read_text() == reference, "docs/cli.md is stale; run: python -m ilrs.cli.reference > docs/cli.md"


def test_every_command_and_option_of_the_help_is_documented(reference):
    """Against Click's own help pages: every subcommand ``ilrs --help`` lists has a section, and every option a
    command's ``--help`` lists appears in that section."""
    sections = _sections(reference)
    todo = [""]
    seen = 0
    while todo:
        path = todo.pop()
        text = output(assert_ok(invoke(*path.split(), "--help")))
        commands = re.search(r"^Commands:\n((?:  .*\n?)+)", text, re.M)
        if commands:
            todo += [f"{path} {line.split()[0]}".strip() for line in commands.group(1).splitlines()]
        if not path:
            continue
        seen += 1
        options = set(re.findall(r"^  (--[a-z][a-z0-9-]*)", text, re.M)) - {"--help"}
        for option in options:
            assert option in sections[path], (path, option)
    assert seen == len(sections) >= 20


def test_help_texts_keep_their_units(reference):
    """Units in brackets are help text, not markup: neither the reference nor ``--help`` drops them."""
    assert "| Latitude [deg], planetocentric. |" in reference
    assert "Latitude [deg], planetocentric." in output(invoke("site", "point", "--help"))


def test_every_note_belongs_to_a_command(reference):
    assert set(NOTES) <= set(_sections(reference))
