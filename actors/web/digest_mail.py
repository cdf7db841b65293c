"""The digest's emails and feed entries from templates (``templates/email/``).

:class:`TemplateRenderer` is the ``actors.digests.service.Renderer`` copub runs with: the
text part is rendered without escaping, the HTML part with it (every link from another
server through ``| href``, as the pages do)."""

from __future__ import annotations

from pathlib import Path

import jinja2

from actors.community import Community
from actors.digests.content import ConfirmationLinks, Digest, Rendered
from actors.web.present import href

TEMPLATES = Path(__file__).parent / "templates" / "email"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["href"] = href
    return env


def _days(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


class TemplateRenderer:
    """Renders digests, confirmations and feed entries; one environment per instance."""

    def __init__(self) -> None:
        self.env = _environment()

    def digest(self, digest: Digest, *, unsubscribe_url: str) -> Rendered:
        context = {
            "digest": digest,
            "frequency": digest.period.frequency.value,
            "unsubscribe_url": unsubscribe_url,
        }
        return Rendered(
            subject=digest.subject,
            text=self.env.get_template("digest.txt").render(context),
            html=self.env.get_template("digest.html").render(context),
        )

    def confirmation(self, community: Community, links: ConfirmationLinks) -> Rendered:
        context = {"community": community, "links": links, "valid_days": _days(links.valid_days)}
        return Rendered(
            subject=f"Confirm your {links.frequency} digest of {community.name}",
            text=self.env.get_template("confirm.txt").render(context),
            html=self.env.get_template("confirm.html").render(context),
        )

    def feed_body(self, digest: Digest) -> str:
        """The digest's sections as an HTML fragment (a feed entry's content)."""
        return self.env.get_template("_digest_body.html").render({"digest": digest})
