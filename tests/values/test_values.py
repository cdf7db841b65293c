"""Value-creation stories, pure: their wire terms and text, the intake of other servers'
terms (hostile values included), members' hashtags, and remote value collections."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from actors.community import Community
from actors.content import InvalidContent, ItemKind, StoryDraft
from actors.inbound.filing import FilingRules, filed_item
from actors.publishing.stories import _story
from actors.settings import ContentSettings
from actors.urls import Urls
from actors.values import (
    MAX_ABOUT,
    MAX_CHANGED,
    MAX_WIRE_ITEMS,
    Indicator,
    ValueClaim,
    claim_from_object,
    indicator_from_json,
    read_collection,
    validate_claim,
    validate_indicator,
)
from federation.jsonld import expand
from tests import factories

URLS = Urls(factories.BASE_URL)
COMMUNITY = Community(1, "nightshift", "Night shift", "", False, "followers", "", datetime.now(UTC))  # type: ignore[arg-type]
TODAY = date(2026, 12, 5)
PRACTICE = URLS.object("nightshift", "double-check")
COPUB = "https://w3id.org/copub/ns#"


def _note(claim: ValueClaim) -> dict[str, object]:
    draft = StoryDraft("Ward 3 reads the dose aloud", "We tried it for a month.")
    item = _story(URLS, COMMUNITY, "s1", draft, datetime(2026, 11, 30, tzinfo=UTC), value=claim)
    return item.obj


def test_a_value_story_carries_its_terms_and_says_them_in_its_text() -> None:
    claim = ValueClaim("applied", "Ward 3 reads every insulin dose aloud", "night nurses",
                       (PRACTICE,))  # fmt: skip
    note = _note(claim)
    assert note["type"] == "Note"
    assert (note["valueCycle"], note["valueChanged"], note["valueFor"], note["valueAbout"]) == (
        "applied", "Ward 3 reads every insulin dose aloud", "night nurses", [PRACTICE]
    )  # fmt: skip
    # Mastodon shows only the content: the cycle and what changed are in it
    content = str(note["content"])
    assert content.startswith("<p><strong>Ward 3 reads the dose aloud</strong></p>")
    shown = ("Applied value", "What changed: Ward 3 reads every insulin dose aloud",
             "For: night nurses", f'href="{PRACTICE}"', "We tried it for a month.")  # fmt: skip
    for text in shown:
        assert text in content, text
    # and other copub servers read the terms back as they were sent
    assert claim_from_object(note) == claim


def test_the_terms_expand_offline_into_copubs_namespace() -> None:
    [expanded] = expand(_note(ValueClaim("realized", "Fewer errors", "patients", (PRACTICE,))))
    assert expanded[COPUB + "valueCycle"] == [{"@value": "realized"}]
    assert expanded[COPUB + "valueAbout"] == [{"@id": PRACTICE}]
    assert expanded[COPUB + "valueFor"] == [{"@value": "patients"}]


def test_a_story_without_a_claim_stays_as_it_was() -> None:
    draft = StoryDraft("Handover", "Text")
    item = _story(URLS, COMMUNITY, "s2", draft, datetime.now(UTC))
    assert "valueCycle" not in item.obj
    assert item.value is None


@pytest.mark.parametrize(
    ("claim", "field"),
    [
        (ValueClaim("financial"), "valueCycle"),
        (ValueClaim("applied", about=("javascript:alert(1)",)), "valueAbout"),
        (
            ValueClaim("applied", about=tuple(f"https://a.test/{i}" for i in range(11))),
            "valueAbout",
        ),
        (ValueClaim("applied", changed="x" * (MAX_CHANGED + 1)), "valueChanged"),
    ],
)
def test_a_coordinator_is_told_what_is_wrong(claim: ValueClaim, field: str) -> None:
    with pytest.raises(InvalidContent) as caught:
        validate_claim(claim)
    assert caught.value.field == field


def test_indicators_are_checked() -> None:
    ok = validate_indicator(
        Indicator("Applied", "  12 wards adopted\nthe double check ", date(2026, 11, 30), 12)
    )
    assert (ok.cycle, ok.text, ok.number) == ("applied", "12 wards adopted the double check", 12)
    for bad in (Indicator("nope", "x", TODAY), Indicator("applied", " ", TODAY),
                Indicator("applied", "x", TODAY, float("nan"))):  # fmt: skip
        with pytest.raises(InvalidContent):
            validate_indicator(bad)


# -- hostile intake ---------------------------------------------------------------------------


@pytest.mark.parametrize("cycle", ["financial", "", None, 3, ["applied"], {"@value": "applied"},
                                   "applied" + " " * 100])  # fmt: skip
def test_a_cycle_outside_the_fixed_set_is_no_claim(cycle: object) -> None:
    assert claim_from_object({"type": "Note", "valueCycle": cycle, "valueChanged": "x"}) is None


def test_remote_terms_are_bounded_and_links_only_http() -> None:
    claim = claim_from_object(
        {
            "type": "Note",
            "valueCycle": "REFRAMING",
            "valueChanged": "\x00\x1b[31m" + "y" * 50_000,
            "valueFor": ["not", "a", "string"],
            "valueAbout": [
                "javascript:alert(1)",
                "data:text/html,<script>",
                "https://ok.test/a\nb",
                {"id": "https://ok.test/practice"},
                *(f"https://ok.test/{i}" for i in range(100_000)),
            ],
        }
    )
    assert claim is not None
    assert claim.cycle == "reframing"
    assert claim.changed == "[31m" + "y" * (MAX_CHANGED - 4)
    assert claim.for_whom == ""
    assert len(claim.about) == MAX_ABOUT
    assert claim.about[0] == "https://ok.test/practice"
    assert all(a.startswith("https://ok.test/") and "\n" not in a for a in claim.about)


def test_a_remote_value_collection_is_read_bounded() -> None:
    group = "https://clinic.test/c/clinic"
    story = {"id": "https://clinic.test/c/clinic/o/1", "type": "Note", "name": "Fridge log",
             "valueCycle": "applied", "published": "2026-11-30T10:00:00Z"}  # fmt: skip
    document = {
        "orderedItems": [
            {**story, "id": "https://elsewhere.test/o/1"},  # not the Group's own: left out
            {**story, "valueCycle": "bogus", "id": "https://clinic.test/c/clinic/o/2"},
            {**story, "id": "javascript:alert(1)"},
            "https://clinic.test/c/clinic/o/3",  # a bare link: nothing to read
            {
                "type": "ValueIndicator",
                "valueCycle": "applied",
                "name": "<b>12</b> wards",
                "valueDate": "2026-11-30",
                "valueNumber": 12,
            },
            {"type": "ValueIndicator", "valueCycle": "applied", "name": "x", "valueDate": "never"},
            {
                "type": "ValueIndicator",
                "valueCycle": "applied",
                "name": "x",
                "valueDate": "2026-11-30",
                "valueNumber": True,
            },
            story,
            *({**story, "id": f"https://clinic.test/c/clinic/o/x{i}"} for i in range(5000)),
        ]
    }
    stories, indicators = read_collection(document, group)
    assert (stories[0]["url"], stories[0]["title"], stories[0]["cycle"]) == (
        story["id"], "Fridge log", "applied"
    )  # fmt: skip
    assert all(s["url"].startswith("https://clinic.test/") for s in stories)
    assert len(stories) == MAX_WIRE_ITEMS
    assert [(i["text"], i["number"]) for i in indicators] == [
        ("<b>12</b> wards", 12.0),
        ("x", None),
    ]
    assert indicator_from_json({"type": "ValueIndicator", "valueCycle": "applied",
                                "name": "x", "valueDate": "2026-13-40"}) is None  # fmt: skip


# -- members' hashtags ------------------------------------------------------------------------


def _post(*tags: str) -> dict[str, object]:
    return {
        "id": "https://mastodon.test/users/ana/statuses/1",
        "type": "Note",
        "attributedTo": "https://mastodon.test/users/ana",
        "content": "<p>We now read the dose aloud on ward 3.</p>",
        "published": "2026-11-30T10:00:00Z",
        "tag": [{"type": "Hashtag", "name": f"#{t}"} for t in tags],
    }


def _filed(post: dict[str, object], rules: FilingRules) -> tuple[ItemKind, ValueClaim | None]:
    item, _revision = filed_item(COMMUNITY, post, "https://mastodon.test/users/ana", None, rules)
    return item.kind, item.value


def test_a_members_post_tagged_as_a_value_story_is_filed_as_one() -> None:
    rules = FilingRules.from_settings(ContentSettings())
    assert _filed(_post("ValueStory", "applied"), rules) == (ItemKind.STORY, ValueClaim("applied"))
    assert _filed(_post("valuestory", "realised"), rules) == (
        ItemKind.STORY,
        ValueClaim("realized"),
    )
    # a cycle's tag alone, or #valuestory without a cycle, is a post as before
    assert _filed(_post("applied"), rules) == (ItemKind.POST, None)
    assert _filed(_post("valuestory"), rules) == (ItemKind.POST, None)
    # a value story tagged #practice too is a value story; an Article stays a practice
    assert _filed(_post("valuestory", "potential", "practice"), rules)[0] == ItemKind.STORY
    article = {**_post("valuestory", "applied"), "type": "Article", "name": "A practice"}
    assert _filed(article, rules)[0] == ItemKind.PRACTICE


def test_the_hashtags_are_configured() -> None:
    content = ContentSettings(value_tags=("#Wert",), applied_tags=("angewandt",))
    rules = FilingRules.from_settings(content)
    assert _filed(_post("wert", "angewandt"), rules) == (ItemKind.STORY, ValueClaim("applied"))
    assert _filed(_post("valuestory", "applied"), rules) == (ItemKind.POST, None)
