"""Attack class: markup from another server in the console.

Before a coordinator confirms a link, the Network page shows the Group that the handle
names: its name, handle and summary as that server sends them. A Group whose summary
carries a script, an event handler, a ``javascript:`` link or a style sheet, whose name
carries a script and whose profile URL is a script must show as inert text: the summary
passes the sanitizer of the public pages, every other field is escaped, and a URL that is
not http(s) links nowhere."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.console.servers import Server, running
from tests.hostile.test_script_urls import unsafe_links
from tests.links.origin import start_origins

NETWORK = "/console/c/hospital/network"
SUMMARY = (
    '<p>Nurses</p><script>alert("summary")</script><img src="x" onerror="alert(1)">'
    '<a href="javascript:alert(2)" onclick="alert(3)">click</a><style>main{display:none}</style>'
    '<iframe src="https://evil.example/"></iframe>'
)


class _Markup(HTMLParser):
    """What a page would run or load: script elements, event handlers, styles, frames."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str | None] = []
        self.handlers: list[str] = []
        self.other: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts.append(dict(attrs).get("src"))
        if tag in ("style", "iframe", "img", "object", "embed"):
            self.other.append(tag)
        self.handlers.extend(name for name, _ in attrs if name.startswith("on"))


@pytest.fixture
async def console_home(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[Server]:
    path = tmp_path / "home.sqlite3"
    shutil.copyfile(sqlite_template, path)
    async with running([f"sqlite+aiosqlite:///{path}"], tmp_path, ["hospital"]) as [server]:
        yield server


async def test_a_groups_markup_is_inert_on_the_confirmation(console_home: Server) -> None:
    [lemmy] = await start_origins("lemmy.example")
    try:
        group = lemmy.documents["/c/nursing"]
        group.update(name='<script>alert("name")</script>Nursing', summary=SUMMARY,
                     url="javascript:alert(4)")  # fmt: skip
        alice = await console_home.coordinator("hospital")
        await alice.get(NETWORK)
        host = lemmy.base_url.split("://", 1)[1]
        page = await alice.post(NETWORK + "/find", {"target": f"@nursing@{host}"})
        assert page.status == 200, page.text
        markup = _Markup()
        markup.feed(page.text)
        assert all(src and src.startswith("/static/") for src in markup.scripts), markup.scripts
        assert markup.handlers == []
        assert markup.other == []
        assert unsafe_links(page.text) == []
        assert "<p>Nurses</p>" in page.text
        assert "&lt;script&gt;" in page.text
    finally:
        await lemmy.close()
