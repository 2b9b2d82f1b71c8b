"""Starts the action server after checking the knowledge file.

rasa-sdk's own entry point would start even with a broken knowledge file and fail
on the first message; this one refuses to start and says which entry is wrong.
It also binds to localhost unless ACTION_SERVER_HOST says otherwise.
"""

from __future__ import annotations

import logging
import os
import sys

from rasa_sdk import utils
from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
from rasa_sdk.endpoint import create_argument_parser, run

from actions.runtime import knowledge_cache, settings
from actions.knowledge import KnowledgeError


def main(argv: list[str] | None = None) -> int:
    args = create_argument_parser().parse_args(argv)
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME),
        args.log_file,
        args.loglevel,
        args.logging_config_file,
    )
    try:
        knowledge = knowledge_cache().get()
    except (KnowledgeError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    logging.getLogger(__name__).info(
        "Knowledge file %s is valid: %d situations.",
        settings().knowledge_file,
        len(knowledge.situations),
    )
    # rasa-sdk reads SANIC_HOST and would otherwise listen on every interface.
    os.environ["SANIC_HOST"] = os.environ.get("ACTION_SERVER_HOST", "127.0.0.1")
    run(args.actions or "actions", args.port, args.cors, auto_reload=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
