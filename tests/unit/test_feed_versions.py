"""The pure parts of a feed's version (feed_stamps.version_of) and of the feed cache."""
from __future__ import annotations

from datetime import UTC, datetime

from server.platform.settings import Settings
from server.schedule import feeds
from server.schedule.feed_stamps import FeedVersion, version_of

SETTINGS = Settings(database_url="sqlite://:memory:", secret_key="k", base_url="http://localhost")
NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
FLOOR = datetime(2027, 1, 5, 9, 30, 15, 123456, tzinfo=UTC)
ROW = (7, "Group session", "Room 4", "https://video.example/j/1", "Europe/London", 12, 1,
       13, 1300, 2, "2027-02-01 10:00:00.250000+00:00")


def tag(rows=(ROW,), **changes) -> FeedVersion:
    args = {"role": "member", "time_zone": "Europe/London", "floor": FLOOR, "settings": SETTINGS, "now": NOW, **changes}
    return version_of(list(rows), **args)


def test_the_same_rows_give_the_same_strong_tag():
    assert tag() == tag()
    assert tag().etag.startswith('"') and len(tag().etag) == 42


def test_every_column_of_a_row_moves_the_tag():
    for index in range(len(ROW)):
        value = ROW[index]
        other = value + 1 if isinstance(value, int) else value.replace("1", "2", 1) if index == len(ROW) - 1 else value + "!"
        changed = (*ROW[:index], other, *ROW[index + 1:])
        assert tag(rows=(changed,)).etag != tag().etag, index


def test_the_person_token_and_settings_move_the_tag():
    assert tag(time_zone="Europe/Paris").etag != tag().etag
    assert tag(role="facilitator").etag != tag().etag
    assert tag(floor=FLOOR.replace(second=16)).etag != tag().etag
    other = Settings(database_url="sqlite://:memory:", secret_key="k", base_url="http://localhost",
                     organizer_name="Another clinic")
    assert tag(settings=other).etag != tag().etag


def test_an_empty_feed_changes_with_the_year_it_describes():
    assert tag(rows=()).etag == tag(rows=(), now=NOW.replace(month=12)).etag
    assert tag(rows=()).etag != tag(rows=(), now=NOW.replace(year=2028)).etag
    assert tag().etag == tag(now=NOW.replace(year=2028)).etag


def test_last_modified_is_the_latest_revision_or_the_token_to_the_second():
    assert tag().last_modified == datetime(2027, 2, 1, 10, 0, tzinfo=UTC)
    assert tag(rows=()).last_modified == FLOOR.replace(microsecond=0)
    postgres_row = (*ROW[:-1], datetime(2027, 2, 1, 10, 0, 0, 250000, tzinfo=UTC))
    assert tag(rows=(postgres_row,)) == tag()  # SQLite's text and PostgreSQL's datetime agree


def _feed(size: int, etag: str = '"a"') -> feeds.FeedBody:
    return feeds.FeedBody(body=b"x" * size, etag=etag, last_modified=NOW)


def test_the_cache_keeps_a_feed_while_its_version_holds_and_drops_it_when_it_moves():
    cache = feeds._FeedCache()
    version = FeedVersion(etag='"a"', last_modified=NOW)
    entry = cache.remember("k", version, token=None)
    cache.keep("k", entry, _feed(10))
    assert cache.fresh("k") is entry
    cache.changed()  # a schedule change in this process: read the version again
    assert cache.fresh("k") is None
    assert cache.remember("k", version, token=None).feed == _feed(10)
    moved = FeedVersion(etag='"b"', last_modified=NOW)
    assert cache.remember("k", moved, token=None).feed is None and cache.bytes == 0


def test_the_cache_drops_the_least_recently_served_past_its_budget(monkeypatch):
    monkeypatch.setattr(feeds, "CACHE_BYTES", 25)
    cache = feeds._FeedCache()
    for key in ("a", "b", "c"):
        entry = cache.remember(key, FeedVersion(etag='"a"', last_modified=NOW), token=None)
        cache.keep(key, entry, _feed(10))
    assert list(cache.entries) == ["b", "c"] and cache.bytes == 20


def test_a_feed_built_for_an_entry_another_request_replaced_is_not_kept():
    cache = feeds._FeedCache()
    version = FeedVersion(etag='"a"', last_modified=NOW)
    first = cache.remember("k", version, token=None)
    second = cache.remember("k", version, token=None)  # a concurrent request read the version again
    cache.keep("k", first, _feed(10))
    assert cache.entries["k"] is second and second.feed is None and cache.bytes == 0
    cache.forget("k")
    cache.keep("k", second, _feed(10))
    assert cache.entries == {} and cache.bytes == 0


def test_the_cache_keeps_a_bounded_number_of_versions(monkeypatch):
    monkeypatch.setattr(feeds, "CACHE_TOKENS", 2)
    cache = feeds._FeedCache()
    for key in ("a", "b", "c"):
        cache.remember(key, FeedVersion(etag='"a"', last_modified=NOW), token=None)
    assert list(cache.entries) == ["b", "c"]
