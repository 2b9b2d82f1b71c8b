"""The knowledge file: schema, coverage of the source material, and live reloading."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from actions.knowledge import (
    SITUATIONS,
    Knowledge,
    KnowledgeCache,
    KnowledgeError,
    parse_knowledge,
)
from actions.settings import DEFAULT_KNOWLEDGE_FILE, PROJECT_ROOT

# Every point of the article the product grew from, each tracked by an id.
ARTICLE_POINTS = {
    "operation_first",
    "recruiter_workload",
    "skills_mismatch_feedback",
    "recruiter_relationship",
    "show_interest",
    "fit_not_worth",
    "not_personal",
    "respect_branding",
    "attitude_and_knowledge",
    "commitment",
    "keep_going",
}
# One source per row of follow-up-research.md, plus the article.
RESEARCH_SOURCES = {
    "indeed_us",
    "indeed_ca",
    "indeed_hk",
    "careeronestop",
    "princeton",
    "wiseworq",
    "careery",
    "meador",
    "glassdoor_2017",
    "glassdoor_2015",
    "shrm",
    "careerbuilder_silence",
    "linkedin_2020",
    "feedback_guides",
    "careerbuilder_thank_you",
}


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return parse_knowledge(DEFAULT_KNOWLEDGE_FILE)


@pytest.fixture
def raw() -> dict:
    return yaml.safe_load(DEFAULT_KNOWLEDGE_FILE.read_text(encoding="utf-8"))


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "coaching.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_knowledge_file_is_outside_the_training_data() -> None:
    # Rasa reads every YAML file under data/ as training data.
    assert not DEFAULT_KNOWLEDGE_FILE.resolve().is_relative_to(PROJECT_ROOT / "data")


def test_every_situation_has_the_whole_entry(knowledge: Knowledge) -> None:
    assert set(knowledge.situations) == set(SITUATIONS)
    for name, entry in knowledge.situations.items():
        assert len(entry.reassurance) >= 3, name
        assert len(set(entry.reassurance)) == len(entry.reassurance), name
        assert len(entry.reasons) >= 2 and len(entry.guidance) >= 2, name
        assert entry.next_step, name
        for item in [*entry.reasons, *entry.guidance]:
            assert item.points or item.facts, f"{name}: {item.text!r} cites nothing"


def test_every_article_point_is_covered(knowledge: Knowledge) -> None:
    assert set(knowledge.article_points) == ARTICLE_POINTS
    used = {p for s in SITUATIONS for item in knowledge.items(s) for p in item.points}
    assert ARTICLE_POINTS - used == set()


def test_every_research_figure_is_used(knowledge: Knowledge) -> None:
    assert set(knowledge.sources) >= RESEARCH_SOURCES
    used_facts = {f for s in SITUATIONS for item in knowledge.items(s) for f in item.facts}
    assert set(knowledge.facts) - used_facts - set(knowledge.timing.facts) == set()
    cited_sources = {knowledge.facts[f].source for f in used_facts}
    assert RESEARCH_SOURCES - cited_sources == set()


def test_buttons_lead_to_intents_the_domain_knows(knowledge: Knowledge) -> None:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
    for name, entry in knowledge.situations.items():
        for button in entry.buttons:
            assert button.intent in domain["intents"], f"{name}: {button.intent}"
            assert button.intent != name


LADDER_STEPS = {
    "wait",
    "wait_no_date",
    "wait_promised",
    "wait_for_reply",
    "follow_up",
    "follow_up_promised",
    "follow_up_again",
    "move_on",
}


def test_each_situation_has_the_texts_for_its_next_steps(knowledge: Knowledge) -> None:
    expected = {
        "no_callback": LADDER_STEPS,
        "ask_contact_recruiter": LADDER_STEPS,
        "rejected": {"ask_feedback"},
        "skills_gap": {"ask_feedback"},
        "on_hold": {"check_back", "check_back_promised"},
        "vacancy_cancelled": {"keep_searching"},
        "feeling_discouraged": {"take_care"},
        "ask_interview_etiquette": {"prepare"},
    }
    for name, steps in expected.items():
        assert set(knowledge.situations[name].next_step) == steps, name


def test_timing_rules_in_the_file_reach_the_next_step(knowledge: Knowledge) -> None:
    rules = knowledge.timing.rules()
    assert rules.follow_up_after_business_days == 5
    assert rules.follow_ups_before_moving_on == 2
    assert knowledge.timing.facts_for(["feedback_within_business_days"]) == ["feedback_how"]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: d["situations"]["rejected"].pop("reassurance"),
            "situations -> rejected -> reassurance",
        ),
        (
            lambda d: d["situations"]["on_hold"]["reasons"][0].update(points=["no_such_point"]),
            "on_hold -> reasons -> 0 -> points: unknown article point 'no_such_point'",
        ),
        (
            lambda d: d["situations"]["no_callback"]["next_step"].update(wait="until {dat}"),
            "situations -> no_callback -> next_step",
        ),
        (
            lambda d: d["situations"]["skills_gap"]["next_step"].update(sit_tight="ok"),
            "'sit_tight' is not a next step",
        ),
        (lambda d: d["situations"].pop("on_hold"), "missing situation(s): on_hold"),
        (
            lambda d: d["facts"]["thank_you_24h"].update(source="nowhere"),
            "facts -> thank_you_24h -> source: unknown source 'nowhere'",
        ),
        (lambda d: d["situations"]["rejected"].update(colour="blue"), "rejected -> colour"),
        (
            lambda d: d["timing"]["follow_up_again_after_days"].update(facts=[]),
            "follow_up_again_after_days: must list the facts it rests on",
        ),
        (
            lambda d: d["timing"]["feedback_within_business_days"].update(facts=["hunch"]),
            "timing -> feedback_within_business_days -> facts: unknown fact 'hunch'",
        ),
        (
            lambda d: d["timing"]["on_hold_check_back_days"].update(value=-3),
            "timing -> on_hold_check_back_days -> value",
        ),
        (lambda d: d["timing"].pop("thank_you_within_days"), "timing -> thank_you_within_days"),
    ],
)
def test_a_bad_entry_is_reported_with_file_entry_and_field(
    tmp_path: Path, raw: dict, mutate, expected: str
) -> None:
    mutate(raw)
    path = write(tmp_path, raw)
    with pytest.raises(KnowledgeError) as error:
        parse_knowledge(path)
    assert str(path) in str(error.value)
    assert expected in str(error.value)


def test_not_yaml_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "coaching.yml"
    path.write_text("situations: [unclosed", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="not valid YAML"):
        parse_knowledge(path)


def test_an_edit_changes_answers_and_a_broken_edit_keeps_the_last_good_version(
    tmp_path: Path, raw: dict
) -> None:
    path = write(tmp_path, raw)
    cache = KnowledgeCache(path)
    assert cache.get().situations["on_hold"].title == raw["situations"]["on_hold"]["title"]

    raw["situations"]["on_hold"]["title"] = "Paused for now"
    write(tmp_path, raw)
    os.utime(path, ns=(10**18, 10**18))  # a distinct mtime even on coarse file systems
    assert cache.get().situations["on_hold"].title == "Paused for now"

    path.write_text("version: [", encoding="utf-8")
    assert cache.get().situations["on_hold"].title == "Paused for now"


def test_action_server_refuses_to_start_with_a_bad_knowledge_file(
    tmp_path: Path, raw: dict
) -> None:
    raw["situations"]["rejected"]["reassurance"] = ["only one line"]
    path = write(tmp_path, raw)
    result = subprocess.run(
        [sys.executable, "-m", "callback_coach.action_server", "--port", "1"],
        env={**os.environ, "COACH_KNOWLEDGE_FILE": str(path)},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert str(path) in result.stderr
    assert "situations -> rejected -> reassurance" in result.stderr


def test_action_server_refuses_to_start_with_an_unknown_holiday_country() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "callback_coach.action_server", "--port", "1"],
        env={**os.environ, "COACH_HOLIDAY_COUNTRY": "Narnia"},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "unknown holiday country 'NARNIA'" in result.stderr


STATISTIC = re.compile(r"\d+(\.\d+)?\s?%|\baverage\b|\$\d")
YEAR = re.compile(r"\b(19|20)\d\d\b")


def test_every_statistic_carries_its_source_and_year(knowledge: Knowledge) -> None:
    """A percentage, an average or a cost is only as good as when and by whom it was
    measured: its fact's source has a year, and wherever the coach says one, the year
    is said with it."""
    for fact_id, fact in knowledge.facts.items():
        if STATISTIC.search(fact.summary):
            assert knowledge.sources[fact.source].year, f"{fact_id}: its source has no year"
    said = []
    for name, entry in knowledge.situations.items():
        said += [(name, text) for text in entry.reassurance]
        said += [(name, item.text) for item in entry.reasons + entry.guidance]
        said += [(name, text) for text in entry.next_step.values()]
    for name, text in said:
        if STATISTIC.search(text):
            assert YEAR.search(text), f"{name}: a figure without its year: {text}"
