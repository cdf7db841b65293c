"""``copub community create|edit --visibility``: members-only from the shell (issue 18)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from actors.cli import main
from tests.flows.copub import sqlite_only

pytestmark = sqlite_only


def test_visibility_from_the_shell(config_file: Path) -> None:
    def copub(*args: str, ok: bool = True) -> str:
        result = CliRunner().invoke(main, ["--config", str(config_file), *args])
        assert (result.exit_code == 0) is ok, result.output
        return result.output

    copub("community", "create", "ward", "--name", "Ward", "--visibility", "members")
    assert "visible:   members" in copub("community", "show", "ward")
    assert "closed:    yes" in copub("community", "show", "ward")
    assert "(members only)" in copub("community", "list")
    copub("community", "create", "open", "--name", "Open")
    out = copub("community", "edit", "open", "--visibility", "members")
    assert "from now on only approved followers see" in out
    assert "what it published before stays wherever it was delivered" in out
    for back in ("public", "closed"):
        out = copub("community", "edit", "ward", "--visibility", back, ok=False)
        assert "cannot become public or closed" in out
        assert "nothing changed" in out
    out = copub("community", "edit", "ward", "--open", "--name", "Ward 7")
    assert "visible:   members" in copub("community", "show", "ward")
