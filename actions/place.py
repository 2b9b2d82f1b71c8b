"""Personal things only in private places (docs/security.md, "Private things in private places").

A message from a Slack channel or a Telegram group is seen by others: there the coach
still answers the situation, but it neither shows nor changes the person's records,
reminders or data, and says where to ask instead (utter_private_elsewhere, worded per
channel in domain.yml). The channel marks the place in the message metadata
(callback_coach.identity); web, REST and terminal chats are always private.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from callback_coach.identity import in_private

PRIVATE_ELSEWHERE = "utter_private_elsewhere"


def said_in_private(tracker: Tracker) -> bool:
    return in_private((tracker.latest_message or {}).get("metadata"))


class PersonalAction(Action, ABC):
    """An action on the person's own records; rasa-sdk registers only its concrete
    subclasses."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if not said_in_private(tracker):
            dispatcher.utter_message(response=PRIVATE_ELSEWHERE)
            return []
        return await self.run_in_private(dispatcher, tracker, domain)

    @abstractmethod
    async def run_in_private(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]: ...
