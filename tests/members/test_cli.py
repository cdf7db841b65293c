"""``copub community create|edit --visibility``: members-only from the shell."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from actors.cli import main


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
    out = copub("community", "edit", "ward", "--open", "--name", "Ward 7")
    assert "visible:   members" in copub("community", "show", "ward")  # --open keeps it
    out = copub("community", "edit", "ward", "--visibility", "closed")
    assert "from now on what the community publishes is closed" in out
    assert "everything it published while members-only stays members-only" in out
    assert "visible:   closed" in copub("community", "show", "ward")
    out = copub("community", "edit", "open", "--visibility", "public")
    assert "stays members-only" in out
    assert "visible:   public" in copub("community", "show", "open")
    assert "closed:    no" in copub("community", "show", "open")
