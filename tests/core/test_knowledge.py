"""The knowledge library: finished tasks are searchable; open and reopened ones are not."""

from __future__ import annotations

from agentdeck.core import Deck, NotFoundError
from tests.core.helpers import claim_key, task_in


def finish(
    deck: Deck, title: str, result: str, *, decision: str = "", description: str = ""
) -> str:
    key = deck.add_task(title, actor="ann", description=description).key
    claim_key(deck, key)
    if decision:
        deck.log(key, decision, actor="gen", kind="decision")
    deck.complete(key, actor="gen", result=result, verified_by="pytest")
    return key


def test_search_finds_done_tasks_by_title_result_and_decisions(web: Deck) -> None:
    oauth = finish(
        web, "Add OAuth login", "Used authlib with PKCE", decision="Chose GitHub as provider"
    )
    finish(web, "Export invoices", "CSV export via the pandas writer")
    assert [h.key for h in web.search("oauth")] == [oauth]
    assert [h.key for h in web.search("PKCE")] == [oauth]
    assert [h.key for h in web.search("github provider")] == [oauth]
    [hit] = web.search("authlib")
    assert (hit.title, hit.result) == ("Add OAuth login", "Used authlib with PKCE")


def test_search_needs_every_word(web: Deck) -> None:
    finish(web, "Add OAuth login", "Used authlib")
    assert web.search("oauth invoices") == []


def test_open_tasks_are_not_in_the_library(web: Deck) -> None:
    web.add_task("Add OAuth login", actor="ann")
    task_in(web, "in_progress", "OAuth for admins")
    task_in(web, "failed", "OAuth for guests")
    task_in(web, "review", "OAuth for staff")
    assert web.search("oauth") == []


def test_reopened_task_leaves_the_library_and_returns_when_done(web: Deck) -> None:
    key = finish(web, "Add OAuth login", "Used authlib")
    web.reopen(key, actor="ann", notes="Tokens never refresh")
    assert web.search("oauth") == []
    claim_key(web, key)
    web.complete(key, actor="gen", result="Refresh tokens rotate now", verified_by="pytest")
    [hit] = web.search("oauth")
    assert hit.key == key and hit.result == "Refresh tokens rotate now"
    assert [h.key for h in web.search("never refresh")] == [key]  # the reopen note is indexed


def test_approved_work_is_indexed(web: Deck) -> None:
    key = task_in(web, "review", "Rotate the signing keys", requires_approval=True)
    assert web.search("signing") == []
    web.approve(key, actor="ann", note="checked the KMS audit log")
    assert [h.key for h in web.search("signing")] == [key]
    assert [h.key for h in web.search("KMS audit")] == [key]


def test_search_ranks_better_matches_first(web: Deck) -> None:
    weak = finish(web, "Tidy the footer", "Mentions caching once")
    strong = finish(web, "Add caching", "Caching layer with Redis caching of caching keys")
    hits = web.search("caching")
    assert [h.key for h in hits] == [strong, weak]
    assert hits[0].score >= hits[1].score


def test_search_takes_hostile_text_literally(web: Deck) -> None:
    key = finish(web, "Fix the NEAR query", "Escaped quotes")
    for query in ('"', "AND OR NOT", "NEAR(", "title:*", "-", "' OR 1=1 --", "", "   "):
        web.search(query)  # never a syntax error from the index
    assert [h.key for h in web.search('NEAR( "query')] == [key]


def test_search_stays_on_its_board(web: Deck) -> None:
    finish(web, "Add OAuth login", "Used authlib")
    web.create_board("API", "API", actor="ann")
    assert web.search("oauth", board="API") == []


def test_similar_ranks_related_finished_tasks_and_excludes_itself(web: Deck) -> None:
    login = finish(web, "Login page styling", "Tailwind classes")
    finish(web, "Database backups", "Nightly pg_dump")
    finish(web, "Login rate limiting", "Token bucket in Redis", description="Limit login attempts")
    new = web.add_task("Login page accessibility", actor="ann").key
    hits = web.similar(new)
    assert hits[0].key == login
    assert "Database backups" not in [h.title for h in hits]
    assert login not in [h.key for h in web.similar(login)]
    assert len(web.similar(new, limit=1)) == 1


def test_similar_unknown_task(web: Deck) -> None:
    try:
        web.similar("WEB-404")
    except NotFoundError as exc:
        assert "WEB-404" in str(exc)
    else:
        raise AssertionError("similar() on an unknown task should raise NotFoundError")


def test_reindex_rebuilds_the_library(web: Deck) -> None:
    key = finish(web, "Add OAuth login", "Used authlib")
    assert web.reindex() == 1
    assert [h.key for h in web.search("authlib")] == [key]


def test_a_query_names_each_word_once() -> None:
    """Repeated words (real descriptions repeat `the`, `and`, their subject) go into the
    full-text query once: SQLite's snippet() took tens of seconds per claim on tasks whose
    descriptions repeat their words, when each repeat was another OR-ed term."""
    from agentdeck.core.storage.dialect import fts_query

    text = "lorem ipsum " * 400 + "pagination"
    assert fts_query(text, any_term=True, dialect="sqlite") == (
        '"lorem" OR "ipsum" OR "pagination"'
    )
    assert fts_query(text, any_term=False, dialect="postgresql") == "lorem & ipsum & pagination"


def test_similar_to_a_long_repetitive_description_finds_it(web: Deck) -> None:
    long = "lorem ipsum " * 400
    done = [finish(web, f"Paginate part {n}", long, description=long) for n in range(4)]
    new = web.add_task("Paginate part 5", actor="ann", description=long).key
    assert {h.key for h in web.similar(new, limit=10)} == set(done)


def test_a_hit_shows_the_words_around_its_first_match(web: Deck) -> None:
    """The snippet is cut from around the match, however long the text: deep in a long result,
    and in one whose every word matches (SQLite's snippet() cost the square of the matches)."""
    key = finish(
        web, "Sign-in", "step " * 3000 + "Used authlib for the OAuth dance" + " tail" * 3000
    )
    [hit] = web.search("authlib")
    assert hit.key == key and "authlib" in hit.snippet
    assert 3 < len(hit.snippet.split()) <= 24
    repeated = finish(web, "Paginate part 1", "lorem ipsum " * 3000, description="lorem " * 2000)
    new = web.add_task("Paginate part 2", actor="ann", description="lorem ipsum").key
    [similar] = web.similar(new)
    assert similar.key == repeated and "lorem" in similar.snippet.lower()
    assert len(similar.snippet.split()) <= 24
