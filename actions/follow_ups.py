"""Whether the user says they have already followed up, and how often.

"I emailed them last week" → once; "I followed up twice" → twice; "I chased them
again" → one more than before. Questions ("should I email them?") and negations ("I
haven't called yet") are not follow-ups: the pattern needs "I" (or "we") directly
before a past-tense verb, with only "have", "already", "also" and the like between.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SUBJECT = r"\b(?:i|we)(?:'ve|'d| have| had)?(?:\s+(?:already|also|even|just|since|then|both))*\s+"
_VERB = (
    r"(?:followed[\s-]?up|follow[\s-]?up'?d|emailed|e-mailed|mailed|called|phoned|rang|"
    r"messaged|texted|pinged|chased|nudged|reached\s+out|wrote|checked\s+in|"
    r"sent\s+(?:(?:them|him|her|the\s+recruiter|hr)\s+)?"
    r"(?:an?|another|one|two|three|\d+|a\s+couple\s+of|several|multiple)?\s*"
    r"(?:follow[\s-]?ups?|e-?mails?|messages?|notes?|reminders?|linkedin\s+messages?))"
)
FOLLOW_UP = re.compile(_SUBJECT + _VERB, re.IGNORECASE)

_TWICE = re.compile(
    r"\b(?:twice|two\s+times|2\s+times|two\s+(?:follow[\s-]?ups|e-?mails|messages|reminders)|"
    r"2\s+(?:follow[\s-]?ups|e-?mails|messages)|a\s+couple\s+of\s+(?:times|e-?mails|messages)|"
    r"a\s+second\s+time|second\s+follow[\s-]?up)\b",
    re.IGNORECASE,
)
_MANY = re.compile(
    r"\b(?:three|four|five|3|4|5|several|multiple|many|a\s+few)\s+"
    r"(?:times|follow[\s-]?ups|e-?mails|messages|reminders)\b",
    re.IGNORECASE,
)
_ONE_MORE = re.compile(r"\b(?:again|another|once\s+more|one\s+more\s+time)\b", re.IGNORECASE)


@dataclass(frozen=True)
class FollowUpMention:
    count: int  # follow-ups the message itself reports
    one_more: bool  # "again", "another": one more than the user told us before
    end: int  # where the mention ends in the text; a date right after it is its date

    def total(self, known_before: int) -> int:
        """Follow-ups done so far, given what the conversation knew before."""
        if self.one_more:
            return max(known_before + 1, self.count, 2)
        return max(known_before, self.count)


def find_follow_up(text: str) -> FollowUpMention | None:
    match = FOLLOW_UP.search(text)
    if match is None:
        return None
    rest = text[match.start() :]
    if _MANY.search(rest):
        count = 3
    elif _TWICE.search(rest):
        count = 2
    else:
        count = 1
    one_more = count == 1 and bool(_ONE_MORE.search(rest))
    return FollowUpMention(count=count, one_more=one_more, end=match.end())
