"""The query language parser: filters, phrases, exclusions; it never raises."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from scry.indexer.query import parse


def test_plain_words() -> None:
    q = parse("dog on the beach")
    assert q.words == ["dog", "on", "the", "beach"] and q.text == "dog on the beach"
    assert not q.filters.active() and q.sort == "relevance"


def test_phrase_exclude_and_every_filter() -> None:
    q = parse(
        '"birthday cake" -cat -"red car" type:photo,pdf in:~/Pictures in:Holidays '
        "after:2023-06 before:2024 camera:Canon ext:HEIC sort:date party"
    )
    assert q.phrases == ["birthday cake"] and q.words == ["party"]
    assert q.excludes == ["cat", "red car"]
    f = q.filters
    assert f.kinds == {"image", "pdf"}
    assert f.folders and f.folders[0].endswith("/Pictures") and f.folders[0].startswith("/")
    assert f.folder_names == ["holidays"]
    assert (f.after, f.before) == ("2023-06-01", "2024-01-01")
    assert f.cameras == ["canon"] and f.exts == {".heic"}
    assert q.sort == "date"
    assert q.text == "party birthday cake"


def test_year_and_day_periods() -> None:
    f = parse("year:2023").filters
    assert (f.after, f.before) == ("2023-01-01", "2024-01-01")
    f = parse("after:2023-12").filters
    assert f.after == "2023-12-01"
    f = parse("before:2024-02-29").filters  # a leap day
    assert f.before == "2024-02-29"
    f = parse("year:2023 after:2023-06").filters  # the narrower bound wins
    assert (f.after, f.before) == ("2023-06-01", "2024-01-01")


def test_things_that_are_not_filters_stay_words() -> None:
    q = parse("type:banana after:2023-13 before:yesterday note:x http://example.com -")
    assert q.words == [
        "type:banana",
        "after:2023-13",
        "before:yesterday",
        "note:x",
        "http://example.com",
        "-",
    ]
    assert not q.filters.active()


def test_unbalanced_quote_is_a_word() -> None:
    q = parse('"unbalanced quote')
    assert q.phrases == [] and q.words == ['"unbalanced', "quote"]


def test_doc_and_video_types() -> None:
    assert parse("type:doc").filters.kinds == {"text", "document"}
    assert parse("type:video").filters.kinds == {"video"}


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_never_raises(raw: str) -> None:
    q = parse(raw)
    assert isinstance(q.text, str)
