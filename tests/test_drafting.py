"""Drafts: the kind chosen for a request, filled from what is known, blanks for the rest."""

from __future__ import annotations

import re

import pytest

from actions.drafting import asks_for_draft, choose_kind, compose
from actions.knowledge import DRAFT_PLACEHOLDERS, Drafts
from actions.runtime import knowledge_cache

EVERYTHING = {
    "person": "Maria Lopez",
    "company": "Acme Corp",
    "role": "data analyst",
    "interview_date": "Monday 23 November",
    "promised": "Friday 27 November",
}


@pytest.fixture(scope="module")
def drafts() -> Drafts:
    return knowledge_cache().get().drafts


@pytest.mark.parametrize(
    ("request_text", "step", "kind"),
    [
        ("write the follow-up email", "wait", "follow_up"),
        ("draft a message asking for feedback", "follow_up", "feedback_request"),
        ("what do i say to the recruiter?", "follow_up", "follow_up"),
        ("what do i say to the recruiter?", "ask_feedback", "feedback_request"),
        ("what do i say to the recruiter?", "check_back", "on_hold_check_in"),
        ("what do i say to the recruiter?", "follow_up_again", "follow_up_again"),
        ("can you write a thank you note to Maria", "wait", "thank_you"),
        ("they never answered, write a second one", "follow_up", "follow_up_again"),
        ("give me a short linkedin version", "follow_up", "short_message"),
        ("write a check-in about the role on hold", "follow_up", "on_hold_check_in"),
        ("write it for me", None, "follow_up"),
        ("I got an offer from another company, what do I say to them?", "wait", "competing_offer"),
        ("write a note to withdraw my application", "follow_up", "withdrawal"),
        ("write a gracious reply to the rejection", "ask_feedback", "rejection_reply"),
        ("what do i say to the recruiter?", "move_on", "last_note"),
        ("what do i say to the recruiter?", "keep_searching", "stay_in_touch"),
        # a cancelled role is never asked for news on the next steps
        ("write a follow-up email", "keep_searching", "stay_in_touch"),
        ("give me a short linkedin version", "keep_searching", "stay_in_touch"),
        ("write a second one", "keep_searching", "stay_in_touch"),
    ],
)
def test_the_kind_follows_the_words_then_the_step(
    drafts: Drafts, request_text: str, step: str | None, kind: str
) -> None:
    assert asks_for_draft(request_text, drafts)
    assert choose_kind(request_text, step, drafts) == kind


def test_a_button_names_the_kind(drafts: Drafts) -> None:
    assert choose_kind("anything", "follow_up", drafts, asked="thank_you") == "thank_you"
    assert choose_kind("anything", "follow_up", drafts, asked="no_such_kind") == "follow_up"


@pytest.mark.parametrize("question", ["should i call them?", "when do i follow up?"])
def test_advice_questions_are_not_draft_requests(drafts: Drafts, question: str) -> None:
    assert not asks_for_draft(question, drafts)


def test_every_kind_is_filled_with_what_the_conversation_knows(drafts: Drafts) -> None:
    for kind in drafts.kinds:
        draft = compose(kind, EVERYTHING, drafts)
        assert draft.blanks == ()
        assert "{" not in draft.text and "}" not in draft.text
        assert "Maria Lopez" in draft.text
        # only the sign-off stays for the candidate: we never know their name
        assert re.findall(r"\[[^\]]+\]", draft.text) in ([], ["[your name]"])


def test_nothing_known_means_marked_blanks_never_invented_names(drafts: Drafts) -> None:
    draft = compose("follow_up", {}, drafts)
    assert "[recruiter's name]" in draft.text
    assert "[company]" in draft.text
    assert "[role]" in draft.text
    assert "[interview day]" in draft.text
    assert draft.blanks == ("role", "recruiter's name", "interview day", "company")
    assert "Maria" not in draft.text and "Acme" not in draft.text


def test_only_the_blanks_a_kind_uses_are_reported(drafts: Drafts) -> None:
    draft = compose("feedback_request", {"person": "Sam", "role": "chef"}, drafts)
    assert draft.blanks == ("company",)
    assert "Hi Sam," in draft.text


def test_the_schema_knows_every_placeholder_a_draft_may_use(drafts: Drafts) -> None:
    for kind in drafts.kinds.values():
        used = set(re.findall(r"{(\w+)}", kind.text))
        assert used <= set(DRAFT_PLACEHOLDERS)


def test_a_draft_stays_one_message_on_every_channel(drafts: Drafts) -> None:
    # Rasa's channels split a text at blank lines ("\n\n") into separate messages.
    for kind in drafts.kinds:
        text = compose(kind, EVERYTHING, drafts).text
        assert "\n\n" not in text.strip()
    assert compose("follow_up", EVERYTHING, drafts).text.count("\n \n") >= 3


def test_no_draft_for_a_cancelled_role_asks_about_next_steps(drafts: Drafts) -> None:
    for name, kind in drafts.kinds.items():
        if "keep_searching" in kind.never_for_steps:
            continue
        assert "next steps" not in kind.text.lower() and "any news" not in kind.text.lower(), name
    # whatever is asked, a cancelled role's draft is one of those
    for request in ("write it for me", "follow up email", "linkedin message", "status update"):
        kind = choose_kind(request, "keep_searching", drafts)
        assert "keep_searching" not in drafts.kinds[kind].never_for_steps, request
