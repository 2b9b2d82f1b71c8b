"""What the Rasa server says when the action server is down, failing or too slow.

Stock Rasa waits up to five minutes for a custom action, and when the call fails it
logs the error and carries on with no reply: the user is left in silence. Here every
call to the action server has a deadline (ACTION_TIMEOUT_SECONDS), and any failure,
whether refused connection, HTTP error, timeout or a malformed answer, turns into the
domain response `utter_action_unavailable`, sent within the same turn.

The failed action is recorded as rejected rather than executed, and its turn ends with
a listen, so no slot changes and no rule treats the action as having happened (the
"yes after coaching" rule does not fire on a yes to the apology). The next message
goes to the action server again as usual: nothing needs resetting when it is back.

Retries: a call whose connection was refused never reached the action server, so
nothing ran and it is tried once more after a short pause (this rides over the moment
an action server restarts). A call that timed out or broke off is not repeated: the
action may already have written records (a reminder saved twice, or marked delivered
and then spoken twice).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Mapping

import aiohttp
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction, create_bot_utterance
from rasa.core.channels.channel import OutputChannel
from rasa.core.nlg import NaturalLanguageGenerator
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecutionRejected, Event, FollowupAction
from rasa.shared.core.trackers import DialogueStateTracker

from callback_coach.fault_reporting import first_line, seconds_setting
from callback_coach.identity import hashed

logger = logging.getLogger(__name__)

FALLBACK_RESPONSE = "utter_action_unavailable"
TIMEOUT_VARIABLE = "ACTION_TIMEOUT_SECONDS"
# The user should hear back within 2 s; NLU, the policy and saving the tracker take
# a few hundred milliseconds of that on a busy machine.
DEFAULT_TIMEOUT_SECONDS = 1.2
RETRY_PAUSE_SECONDS = 0.2

RemoteRun = Callable[
    [RemoteAction, OutputChannel, NaturalLanguageGenerator, DialogueStateTracker, Domain],
    Awaitable[list[Event]],
]


def action_timeout(environ: Mapping[str, str] = os.environ) -> float:
    return seconds_setting(environ, TIMEOUT_VARIABLE, DEFAULT_TIMEOUT_SECONDS, 300)


def never_reached_server(error: BaseException) -> bool:
    """True when the connection itself failed, so the action cannot have run.

    Rasa wraps aiohttp's error in a RasaException; the original is its cause or context.
    """
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, aiohttp.ClientConnectorError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {first_line(error)}"


async def fallback_events(
    action_name: str,
    output_channel: OutputChannel,
    nlg: NaturalLanguageGenerator,
    tracker: DialogueStateTracker,
) -> list[Event]:
    events: list[Event] = [ActionExecutionRejected(action_name)]
    message = await nlg.generate(FALLBACK_RESPONSE, tracker, output_channel.name())
    if message:
        message["utter_action"] = FALLBACK_RESPONSE
        events.append(create_bot_utterance(message))
    else:
        logger.error(
            "The model has no %s response, so the user got no apology: retrain (make train).",
            FALLBACK_RESPONSE,
        )
    events.append(FollowupAction(ACTION_LISTEN_NAME))
    return events


async def run_with_fallback(
    run: RemoteRun,
    timeout: float,
    action: RemoteAction,
    output_channel: OutputChannel,
    nlg: NaturalLanguageGenerator,
    tracker: DialogueStateTracker,
    domain: Domain,
) -> list[Event]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    retried = False
    while True:
        try:
            remaining = max(deadline - loop.time(), 0.001)
            return await asyncio.wait_for(
                run(action, output_channel, nlg, tracker, domain), remaining
            )
        except ActionExecutionRejection:
            raise  # the action declined on purpose; Rasa's policies handle that
        except asyncio.TimeoutError:
            problem = f"no answer within {timeout:g} s ({TIMEOUT_VARIABLE})"
        except Exception as error:
            can_retry = never_reached_server(error) and not retried
            if can_retry and loop.time() + RETRY_PAUSE_SECONDS < deadline:
                retried = True
                await asyncio.sleep(RETRY_PAUSE_SECONDS)
                continue
            problem = describe(error)
        logger.error(
            "Action %s failed for conversation %s (%s); the user was told to try again.",
            action.name(),
            hashed(tracker.sender_id),
            problem,
        )
        return await fallback_events(action.name(), output_channel, nlg, tracker)


def install(environ: Mapping[str, str] = os.environ) -> None:
    """Gives every remote action a deadline and a spoken fallback."""
    timeout = action_timeout(environ)
    run: RemoteRun = RemoteAction.run
    if getattr(run, "with_fallback", False):
        return

    async def run_or_apologise(
        self: RemoteAction,
        output_channel: OutputChannel,
        nlg: NaturalLanguageGenerator,
        tracker: DialogueStateTracker,
        domain: Domain,
    ) -> list[Event]:
        return await run_with_fallback(run, timeout, self, output_channel, nlg, tracker, domain)

    run_or_apologise.with_fallback = True  # type: ignore[attr-defined]
    RemoteAction.run = run_or_apologise
    logger.debug("Remote actions time out after %g s.", timeout)
