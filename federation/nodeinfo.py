"""NodeInfo 2.1 documents (https://nodeinfo.diaspora.software/)."""

from __future__ import annotations

from typing import Any

from federation.vocab import JSON

NODEINFO_21_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/2.1"
NODEINFO_21_PROFILE = 'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"'


def nodeinfo_links(nodeinfo_url: str, application_actor: str) -> JSON:
    """The ``/.well-known/nodeinfo`` discovery document (with the FEP-2677 actor link)."""
    return {
        "links": [
            {"rel": NODEINFO_21_SCHEMA, "href": nodeinfo_url},
            {
                "rel": "https://www.w3.org/ns/activitystreams#Application",
                "href": application_actor,
            },
        ]
    }


def nodeinfo_21(
    *,
    software: str,
    version: str,
    homepage: str,
    local_posts: int,
    users_total: int,
    open_registrations: bool,
    metadata: dict[str, Any],
) -> JSON:
    return {
        "version": "2.1",
        "software": {"name": software, "version": version, "homepage": homepage},
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": open_registrations,
        "usage": {
            "users": {
                "total": users_total,
                "activeMonth": users_total,
                "activeHalfyear": users_total,
            },
            "localPosts": local_posts,
        },
        "metadata": metadata,
    }
