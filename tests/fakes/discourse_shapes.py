"""What the fake Discourse answers: its records serialized with the fields Discourse's
OpenAPI document (tests/fixtures/discourse/openapi.json) lists for each operation, and its
webhook bodies with the fields of Discourse's ``WebHookPostSerializer`` and
``WebHookTopicViewSerializer``. The contract test validates every answer against the
document, so a field too many or too few shows up there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

AVATAR = "/user_avatar/forum.test/{username}/{{size}}/1_2.png"


@dataclass
class User:
    id: int
    username: str
    name: str = ""
    admin: bool = False
    moderator: bool = False
    trust_level: int = 1

    @property
    def avatar_template(self) -> str:
        return AVATAR.format(username=self.username)

    def brief(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.username, "name": self.name,
                "avatar_template": self.avatar_template}  # fmt: skip


@dataclass
class Category:
    id: int
    slug: str
    name: str
    permission: int | None = 1  # of the bot: 1 full, 2 reply, 3 see, None nothing
    read_restricted: bool = False
    topic_count: int = 0
    post_count: int = 0
    about_topic_id: int = 1  # "About the ... category", created with the category


@dataclass
class Post:
    id: int
    topic_id: int
    post_number: int
    user: User
    raw: str
    cooked: str
    created_at: str
    updated_at: str
    version: int = 1
    reply_to_post_number: int | None = None
    post_type: int = 1
    deleted_at: str | None = None
    hidden: bool = False
    user_deleted: bool = False  # its author deleted it (Discourse keeps it a day)


@dataclass
class Topic:
    id: int
    title: str
    slug: str
    category_id: int
    user: User
    created_at: str
    bumped_at: str
    tags: list[str] = field(default_factory=list)
    archetype: str = "regular"
    deleted_at: str | None = None
    post_ids: list[int] = field(default_factory=list)


def _post_common(post: Post, topic: Topic) -> dict[str, Any]:
    user = post.user
    return {
        "id": post.id, "name": user.name, "username": user.username,
        "avatar_template": user.avatar_template, "created_at": post.created_at,
        "cooked": post.cooked, "post_number": post.post_number, "post_type": post.post_type,
        "updated_at": post.updated_at, "reply_count": 0,
        # documented as a string; Discourse sends the number as text here
        "reply_to_post_number": None if post.reply_to_post_number is None
        else str(post.reply_to_post_number),
        "quote_count": 0, "incoming_link_count": 0, "reads": 1, "readers_count": 0,
        "score": 0.2, "yours": False, "topic_id": topic.id, "topic_slug": topic.slug,
        "display_username": user.name, "primary_group_name": None, "flair_name": None,
        "flair_url": None, "flair_bg_color": None, "flair_color": None,
        "version": post.version, "can_edit": True, "can_delete": True, "can_recover": True,
        "can_wiki": True, "user_title": None, "actions_summary": [{"id": 2, "can_act": True}],
        "moderator": user.moderator, "admin": user.admin, "staff": user.admin or user.moderator,
        "user_id": user.id, "hidden": post.hidden, "trust_level": user.trust_level,
        "deleted_at": post.deleted_at, "user_deleted": post.user_deleted, "edit_reason": None,
        "can_view_edit_history": True, "wiki": False, "reviewable_id": 0,
        "reviewable_score_count": 0, "reviewable_score_pending_count": 0,
    }  # fmt: skip


def post_in_topic(post: Post, topic: Topic) -> dict[str, Any]:
    """A post in ``/t/{id}.json`` and ``/t/{id}/posts.json``."""
    data = _post_common(post, topic)
    data.update(can_see_hidden_post=True, link_counts=[], read=True, bookmarked=False)
    return data


def post_single(post: Post, topic: Topic, base_url: str) -> dict[str, Any]:
    """``GET /posts/{id}.json``: with ``raw``."""
    data = _post_common(post, topic)
    data.update(
        posts_count=len(topic.post_ids), can_see_hidden_post=True, bookmarked=False,
        raw=post.raw, flair_group_id=None, post_url=_post_url(post, topic),
        mentioned_users=[],
    )  # fmt: skip
    return data


def post_written(post: Post, topic: Topic) -> dict[str, Any]:
    """The answer of ``POST /posts.json`` (and the ``post`` of ``PUT /posts/{id}.json``)."""
    data = _post_common(post, topic)
    data.update(
        raw=post.raw, posts_count=len(topic.post_ids), flair_group_id=None, badges_granted=[],
        can_see_hidden_post=True, bookmarked=False, draft_sequence=1,
        post_url=_post_url(post, topic), post_localizations=[], mentioned_users=[],
    )  # fmt: skip
    data["reviewable_id"] = None
    return data


def post_updated(post: Post, topic: Topic) -> dict[str, Any]:
    return {"post": post_written(post, topic)}


def _post_url(post: Post, topic: Topic) -> str:
    return f"/t/{topic.slug}/{topic.id}/{post.post_number}"


def topic_in_list(topic: Topic, posts: list[Post], users: dict[int, User]) -> dict[str, Any]:
    last = posts[-1] if posts else None
    return {
        "id": topic.id, "title": topic.title, "fancy_title": topic.title, "slug": topic.slug,
        "posts_count": len(posts), "reply_count": max(0, len(posts) - 1),
        "highest_post_number": max((p.post_number for p in posts), default=0),
        "image_url": None, "created_at": topic.created_at,
        "last_posted_at": last.created_at if last else topic.created_at, "bumped": True,
        "bumped_at": topic.bumped_at, "archetype": topic.archetype, "unseen": False,
        "pinned": False, "unpinned": None, "excerpt": _excerpt(posts[0].cooked) if posts else "",
        "visible": True, "closed": False, "archived": False, "bookmarked": None, "liked": None,
        "views": 3, "like_count": 0, "has_summary": False,
        "last_poster_username": last.user.username if last else topic.user.username,
        "category_id": topic.category_id, "pinned_globally": False, "featured_link": None,
        "posters": [{"extras": "latest", "description": "Original Poster",
                     "user_id": topic.user.id, "primary_group_id": None}],
    }  # fmt: skip


def topic_list(
    topics: list[dict[str, Any]], users: list[User], *, more_url: str | None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "users": [u.brief() for u in users],
        "primary_groups": [],
        "topic_list": {"can_create_topic": True, "per_page": 30, "top_tags": [],
                       "topics": topics},
    }  # fmt: skip
    if more_url:
        data["topic_list"]["more_topics_url"] = more_url
    return data


def topic_view(topic: Topic, shown: list[Post], all_posts: list[Post]) -> dict[str, Any]:
    last = all_posts[-1] if all_posts else None
    creator = topic.user.brief()
    return {
        "post_stream": {"posts": [post_in_topic(p, topic) for p in shown],
                        "stream": [p.id for p in all_posts]},
        "timeline_lookup": [], "suggested_topics": [],
        "tags": [{"id": i + 1, "name": t, "slug": t} for i, t in enumerate(topic.tags)],
        "tags_descriptions": {}, "id": topic.id, "title": topic.title,
        "fancy_title": topic.title, "posts_count": len(all_posts), "created_at": topic.created_at,
        "views": 3, "reply_count": max(0, len(all_posts) - 1), "like_count": 0,
        "last_posted_at": last.created_at if last else None, "visible": True, "closed": False,
        "archived": False, "has_summary": False, "archetype": topic.archetype,
        "slug": topic.slug, "category_id": topic.category_id, "word_count": 42,
        "deleted_at": topic.deleted_at, "user_id": topic.user.id, "featured_link": None,
        "pinned_globally": False, "pinned_at": None, "pinned_until": None, "image_url": None,
        "slow_mode_seconds": 0, "draft": None, "draft_key": f"topic_{topic.id}",
        "draft_sequence": 0, "unpinned": None, "pinned": False, "current_post_number": 1,
        "highest_post_number": max((p.post_number for p in all_posts), default=None),
        "deleted_by": None, "has_deleted": any(p.deleted_at for p in all_posts),
        "actions_summary": [{"id": 4, "count": 0, "hidden": False, "can_act": True}],
        "chunk_size": 20, "bookmarked": False, "bookmarks": [], "topic_timer": None,
        "message_bus_last_id": 0, "participant_count": len({p.user.id for p in all_posts}),
        "show_read_indicator": False, "thumbnails": None, "slow_mode_enabled_until": None,
        "details": {
            "can_edit": True, "notification_level": 1, "can_move_posts": True,
            "can_delete": True, "can_remove_allowed_users": True, "can_create_post": True,
            "can_reply_as_new_topic": True, "can_convert_topic": True, "can_review_topic": True,
            "can_close_topic": True, "can_archive_topic": True, "can_split_merge_topic": True,
            "can_edit_staff_notes": True, "can_toggle_topic_visibility": True,
            "can_pin_unpin_topic": True, "can_moderate_category": True, "can_remove_self_id": 1,
            "created_by": creator, "last_poster": (last.user if last else topic.user).brief(),
        },
    }  # fmt: skip


def _category_common(category: Category) -> dict[str, Any]:
    return {
        "id": category.id, "name": category.name, "color": "0088CC", "text_color": "FFFFFF",
        "style_type": "square", "emoji": None, "icon": None, "slug": category.slug,
        "topic_count": category.topic_count, "post_count": category.post_count,
        "position": category.id, "description": f"<p>{category.name}</p>",
        "description_text": category.name, "description_excerpt": category.name,
        "topic_url": f"/t/about-the-{category.slug}-category/{category.about_topic_id}",
        "read_restricted": category.read_restricted, "notification_level": 1,
        "can_edit": True, "topic_template": None, "topic_title_placeholder": None,
        "has_children": False, "subcategory_count": None, "sort_order": None,
        "sort_ascending": None, "show_subcategory_list": False, "num_featured_topics": 3,
        "default_view": None, "subcategory_list_style": "rows_with_featured_topics",
        "default_top_period": "all", "default_list_filter": "all", "minimum_required_tags": 0,
        "navigate_to_first_post_after_read": False, "uploaded_logo": None,
        "uploaded_logo_dark": None, "uploaded_background": None,
        "uploaded_background_dark": None,
    }  # fmt: skip


def category_show(category: Category) -> dict[str, Any]:
    data = _category_common(category)
    data.update(
        permission=category.permission, custom_fields={}, required_tag_groups=[],
        read_only_banner=None, available_groups=[], auto_close_hours=None,
        auto_close_based_on_last_post=False, allow_unlimited_owner_edits_on_first_post=False,
        default_slow_mode_seconds=None, group_permissions=[
            {"permission_type": 1, "group_name": "staff", "group_id": 3}],
        email_in=None, email_in_allow_strangers=False, mailinglist_mirror=False,
        all_topics_wiki=False, can_delete=False, allow_badges=True,
        topic_featured_link_allowed=True, search_priority=0, topic_posting_review_group_ids=[],
        reply_posting_review_group_ids=[],
    )  # fmt: skip
    return {"category": data}


def category_list(categories: list[Category]) -> dict[str, Any]:
    items = []
    for category in categories:
        data = _category_common(category)
        data.update(
            permission=category.permission if category.permission is not None else 3,
            topics_day=0, topics_week=0, topics_month=0, topics_year=category.topic_count,
            topics_all_time=category.topic_count, subcategory_ids=[],
        )  # fmt: skip
        items.append(data)
    return {"category_list": {"can_create_category": True, "can_create_topic": True,
                              "categories": items}}  # fmt: skip


def basic_info(title: str) -> dict[str, Any]:
    return {
        "logo_url": "", "logo_small_url": "", "apple_touch_icon_url": "", "favicon_url": "",
        "title": title, "description": "A forum for the test", "header_primary_color": "333333",
        "header_background_color": "ffffff", "login_required": False, "locale": "en",
        "include_in_discourse_discover": False, "mobile_logo_url": "",
    }  # fmt: skip


def webhook_post(post: Post, topic: Topic, category: Category) -> dict[str, Any]:
    """``{"post": ...}`` of post events (Discourse's WebHookPostSerializer)."""
    data = _post_common(post, topic)
    for key in (
        "can_edit",
        "can_delete",
        "can_recover",
        "can_wiki",
        "yours",
        "can_view_edit_history",
        "actions_summary",
        "readers_count",
    ):
        data.pop(key)  # fmt: skip
    data.update(
        raw=post.raw, topic_title=topic.title, category_id=topic.category_id,
        topic_posts_count=len(topic.post_ids), topic_filtered_posts_count=len(topic.post_ids),
        topic_archetype=topic.archetype, category_slug=category.slug,
    )  # fmt: skip
    return {"post": data}


def webhook_topic(topic: Topic, posts: list[Post]) -> dict[str, Any]:
    """``{"topic": ...}`` of topic events (Discourse's WebHookTopicViewSerializer)."""
    last = posts[-1] if posts else None
    return {"topic": {
        "id": topic.id, "title": topic.title, "fancy_title": topic.title,
        "posts_count": len(posts), "created_at": topic.created_at, "views": 0,
        "reply_count": max(0, len(posts) - 1), "like_count": 0,
        "last_posted_at": last.created_at if last else None, "visible": True, "closed": False,
        "archived": False, "archetype": topic.archetype, "slug": topic.slug,
        "category_id": topic.category_id, "word_count": 42, "deleted_at": topic.deleted_at,
        "user_id": topic.user.id, "featured_link": None, "pinned_globally": False,
        "pinned_at": None, "pinned_until": None, "unpinned": None, "pinned": False,
        "highest_post_number": max((p.post_number for p in posts), default=0),
        "deleted_by": None, "bookmarked": False, "participant_count": 1, "thumbnails": None,
        "created_by": topic.user.brief(),
        "last_poster": (last.user if last else topic.user).brief(),
        "tags": list(topic.tags), "tags_descriptions": {},
    }}  # fmt: skip


def error_body(errors: list[str], error_type: str | None, **extras: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"errors": errors}
    if error_type is not None:
        body["error_type"] = error_type
    if extras:
        body["extras"] = extras
    return body


def _excerpt(cooked: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", cooked).split())[:200]
