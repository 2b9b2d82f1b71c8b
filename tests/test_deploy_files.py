"""The deploy files agree with the code they deploy (docs/production.md).

No cluster and no Rasa here: the Helm values are parsed, the endpoints and channels the
rasa chart would write from them (its templates/config-map.yaml) are compared with
endpoints.yml and credentials.yml, and every secret must come from the Kubernetes Secret.
Each check is a function returning its problems, so the last tests can show that a
broken copy of the values is caught. Only the nginx test starts a process (nginx).
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import yaml

from callback_coach import http_api
from callback_coach.cluster import NGINX, distinct_free_ports, start_nginx
from callback_coach.launcher import PROJECT_ROOT
from tests.test_secrets import CREDENTIAL_SHAPES, SECRET_KEY

DEPLOY = PROJECT_ROOT / "deploy"
RASA_VALUES = DEPLOY / "helm" / "rasa-values.yaml"
ACTIONS_VALUES = DEPLOY / "helm" / "actions-values.yaml"
SECRET_EXAMPLE = DEPLOY / "helm" / "secrets.example.yaml"
SECRET_NAME = "callback-coach"
# Release names of the install commands in docs/production.md, and the Services the
# charts name after them (rasa-common.names.fullname: release-chart).
RASA_SERVICE_HOST = "callback-coach-rasa"
ACTIONS_SERVICE_HOST = "callback-coach-actions-rasa-action-server"
OPTIONAL_CHANNELS = {
    "callback_coach.channels.slack.CoachSlackInput",
    "callback_coach.channels.telegram.CoachTelegramInput",
    # the terminal chat of `make run`: a developer's, never deployed
    "callback_coach.channels.rest.CoachTerminalInput",
}
# Variables whose values are secrets: the shared secrets, tokens, passwords, and the
# database URL (it carries the password).
SECRET_VARIABLE = re.compile(r"(TOKEN|SECRET|PASSWORD)$|^DATABASE_URL$")
# The rasa chart sets these itself from `redis` (rasa-common.redis.envs); the
# password from `redis.existingSecret`.
CHART_SET_VARIABLES = {"REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD"}
# Keys that name a Secret or a key in it, not hold one.
SECRET_REFERENCE_KEYS = {"existingSecret", "existingSecretPasswordKey", "secretName"}
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
PLACEHOLDER = re.compile(r"CHANGE-ME|://user:password@")


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def env_entries(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in values.get("extraEnv") or []}


def literal_env(values: dict[str, Any]) -> dict[str, str]:
    return {
        name: str(entry["value"]) for name, entry in env_entries(values).items() if "value" in entry
    }


def secret_keys() -> set[str]:
    secret = load(SECRET_EXAMPLE)
    assert secret["kind"] == "Secret" and secret["metadata"]["name"] == SECRET_NAME
    # The optional ones are commented out there; they count as documented keys.
    commented = re.findall(r"^\s*#\s*([a-z-]+):\s", SECRET_EXAMPLE.read_text(), re.MULTILINE)
    return set(secret["stringData"]) | set(commented)


def rendered_endpoints(values: dict[str, Any]) -> list[tuple[str, Any]]:
    """The top-level entries of the endpoints.yml the rasa chart writes, in order (a
    list, so that a key written twice shows)."""
    endpoints = values["applicationSettings"]["endpoints"]
    entries: list[tuple[str, Any]] = []
    for key, name in (("trackerStore", "tracker_store"), ("lockStore", "lock_store")):
        if endpoints.get(key, {}).get("enabled"):
            entries.append((name, {k: v for k, v in endpoints[key].items() if k != "enabled"}))
    chart_actions = values.get("rasa-action-server", {})
    external = chart_actions.get("external", {})
    if chart_actions.get("install") or (external.get("enabled") and external.get("url")):
        # the chart's own action endpoint: a URL, no headers
        entries.append(("action_endpoint", {"url": "${ACTION_SERVER_URL}"}))
    entries += list((endpoints.get("additionalEndpoints") or {}).items())
    return entries


def channels(values: dict[str, Any]) -> dict[str, Any]:
    credentials = values["applicationSettings"]["credentials"]
    assert credentials["enabled"] is True
    return credentials["additionalChannelCredentials"]


def endpoint_problems(values: dict[str, Any], reference: dict[str, Any]) -> list[str]:
    """What the chart's endpoints.yml gets wrong compared with ours."""
    entries = rendered_endpoints(values)
    names = [name for name, _ in entries]
    problems = [f"{name} written twice" for name in set(names) if names.count(name) > 1]
    rendered = dict(entries)
    env = literal_env(values)
    for name in ("tracker_store", "lock_store", "action_endpoint"):
        if name not in rendered:
            problems.append(f"no {name}")
    if problems:
        return problems
    if rendered["tracker_store"].get("type") != reference["tracker_store"]["type"]:
        problems.append(f"tracker store {rendered['tracker_store'].get('type')!r}")
    if rendered["tracker_store"].get("url") != reference["tracker_store"]["url"]:
        problems.append("tracker store url is not ${DATABASE_URL}")
    # endpoints.yml leaves the type to LOCK_STORE_TYPE; replicas need Redis, and the
    # variable must say so too (the rate limit, Slack ids and socket.io follow it).
    assert reference["lock_store"]["type"] == "${LOCK_STORE_TYPE}"
    if rendered["lock_store"].get("type") != "redis":
        problems.append(f"lock store {rendered['lock_store'].get('type')!r}, not redis")
    if env.get("LOCK_STORE_TYPE") != "redis":
        problems.append("LOCK_STORE_TYPE is not redis")
    for key in ("url", "port"):
        if rendered["lock_store"].get(key) != reference["lock_store"][key]:
            problems.append(f"lock store {key} differs from endpoints.yml")
    action = rendered["action_endpoint"]
    if action.get("headers") != reference["action_endpoint"]["headers"]:
        problems.append(f"action endpoint headers {action.get('headers')!r}")
    if action.get("url") != reference["action_endpoint"]["url"]:
        problems.append(f"action endpoint url {action.get('url')!r}")
    if action.get("enable_selective_domain") != reference["action_endpoint"].get(
        "enable_selective_domain"
    ):
        problems.append("action endpoint sends the domain differently from endpoints.yml")
    return problems


def channel_problems(values: dict[str, Any], reference: dict[str, Any]) -> list[str]:
    """Channels missing, unknown, or configured differently from credentials.yml."""
    ours = channels(values)
    problems = [f"unknown channel {name}" for name in set(ours) - set(reference)]
    required = set(reference) - OPTIONAL_CHANNELS
    problems += [f"missing channel {name}" for name in required - set(ours)]
    for name in set(ours) & set(reference):
        settings, expected = ours[name] or {}, reference[name] or {}
        for key, value in settings.items():
            if key not in expected:
                problems.append(f"{name}: unknown setting {key}")
            elif value != expected[key]:
                problems.append(
                    f"{name}: {key} is {value!r}, credentials.yml has {expected[key]!r}"
                )
    return problems


def unset_variable_problems(values: dict[str, Any]) -> list[str]:
    """Rasa refuses to start on a ${VAR} that is not set."""
    text = yaml.safe_dump([rendered_endpoints(values), channels(values)])
    known = set(env_entries(values)) | CHART_SET_VARIABLES
    return [f"${{{name}}} is never set" for name in sorted(set(VARIABLE.findall(text)) - known)]


def secret_env_problems(values: dict[str, Any], keys: set[str], required: set[str]) -> list[str]:
    """Every secret variable from a secretKeyRef to a key of the Secret; none missing."""
    entries = env_entries(values)
    problems = [f"{name} is not set" for name in sorted(required - set(entries))]
    for name, entry in entries.items():
        if not SECRET_VARIABLE.search(name):
            continue
        reference = (entry.get("valueFrom") or {}).get("secretKeyRef") or {}
        if "value" in entry or not reference:
            problems.append(f"{name} is not from a secretKeyRef")
        elif reference.get("name") != SECRET_NAME or reference.get("key") not in keys:
            problems.append(f"{name} refers to {reference!r}, not a key of the Secret")
    return problems


def literal_secret_problems(tree: Any, where: str = "") -> list[str]:
    """Secret-named settings holding a value instead of a ${VAR} or a Secret reference,
    and credential-shaped strings anywhere."""
    problems: list[str] = []
    if isinstance(tree, dict):
        for key, value in tree.items():
            here = f"{where}.{key}"
            if key == "secretKeyRef" or key in SECRET_REFERENCE_KEYS:
                continue
            if (
                isinstance(value, (str, int))
                and SECRET_KEY.search(str(key))
                and not VARIABLE.search(str(value))
            ):
                problems.append(f"{here} holds a value")
            problems += literal_secret_problems(value, here)
    elif isinstance(tree, list):
        for index, item in enumerate(tree):
            problems += literal_secret_problems(item, f"{where}[{index}]")
            if (
                isinstance(item, dict)
                and SECRET_VARIABLE.search(str(item.get("name", "")))
                and "value" in item
            ):
                problems.append(f"{where}[{index}] ({item['name']}) holds a value")
    elif isinstance(tree, str):
        problems += [
            f"{where}: {kind}" for kind, shape in CREDENTIAL_SHAPES.items() if shape.search(tree)
        ]
    return problems


@pytest.fixture(scope="module")
def rasa_values() -> dict[str, Any]:
    return load(RASA_VALUES)


@pytest.fixture(scope="module")
def actions_values() -> dict[str, Any]:
    return load(ACTIONS_VALUES)


@pytest.fixture(scope="module")
def endpoints_yml() -> dict[str, Any]:
    return load(PROJECT_ROOT / "endpoints.yml")


@pytest.fixture(scope="module")
def credentials_yml() -> dict[str, Any]:
    return load(PROJECT_ROOT / "credentials.yml")


def required_secrets(values: dict[str, Any]) -> set[str]:
    required = {"ACTION_SERVER_TOKEN", "REMINDER_CHANNEL_SECRET", "DATABASE_URL"}
    served = (values.get("applicationSettings", {}).get("credentials") or {}).get(
        "additionalChannelCredentials"
    ) or {}
    if "callback_coach.channels.rest.CoachRestInput" in served:
        required.add("REST_CHANNEL_TOKEN")
    if "callback_coach.channels.socketio.CoachSocketIOInput" in served:
        required.add("WEB_SESSION_SECRET")
    if http_api.api_enabled(literal_env(values)):
        required.add("RASA_API_TOKEN")
    return required


# --- the real files ----------------------------------------------------------------------


def test_the_charts_endpoints_match_endpoints_yml(
    rasa_values: dict[str, Any], endpoints_yml: dict[str, Any]
) -> None:
    assert endpoint_problems(rasa_values, endpoints_yml) == []
    # the action endpoint reaches the action-server release's Service
    url = urlsplit(literal_env(rasa_values)["ACTION_ENDPOINT_URL"])
    actions_port = load(ACTIONS_VALUES)["service"]["port"]
    assert (url.hostname, url.port or 80, url.path) == (
        ACTIONS_SERVICE_HOST,
        actions_port,
        "/webhook",
    )


def test_the_charts_channels_match_credentials_yml(
    rasa_values: dict[str, Any], credentials_yml: dict[str, Any]
) -> None:
    assert channel_problems(rasa_values, credentials_yml) == []
    assert "callback_coach.channels.reminders.ReminderInput" in channels(rasa_values)


def test_every_variable_in_the_charts_configs_is_set(rasa_values: dict[str, Any]) -> None:
    assert unset_variable_problems(rasa_values) == []


def test_the_http_api_is_off(rasa_values: dict[str, Any]) -> None:
    # on only through RASA_ENABLE_API + RASA_API_TOKEN, never by arguments
    assert not any(
        argument.startswith(("--enable-api", "--auth-token", "--jwt"))
        for argument in rasa_values["args"] + (rasa_values.get("extraArgs") or [])
    )
    assert rasa_values["command"] == ["python", "-m", "callback_coach.rasa_server"]
    assert http_api.api_enabled(literal_env(rasa_values)) is False


@pytest.mark.parametrize("path", [RASA_VALUES, ACTIONS_VALUES], ids=lambda path: path.name)
def test_every_secret_comes_from_the_secret(path: Path) -> None:
    values = load(path)
    assert secret_env_problems(values, secret_keys(), required_secrets(values)) == []


def test_the_schedulers_reach_the_rasa_service(
    rasa_values: dict[str, Any], actions_values: dict[str, Any]
) -> None:
    url = urlsplit(literal_env(actions_values)["RASA_URL"])
    assert (url.hostname, url.port) == (RASA_SERVICE_HOST, rasa_values["service"]["port"])
    # the release names the host names come from
    production = (PROJECT_ROOT / "docs" / "production.md").read_text(encoding="utf-8")
    assert "helm install callback-coach rasa/rasa " in production
    assert "helm install callback-coach-actions rasa/rasa-action-server " in production


def test_nothing_in_deploy_is_a_literal_secret() -> None:
    files = sorted(path for path in DEPLOY.rglob("*") if path.is_file())
    assert RASA_VALUES in files and (DEPLOY / "Dockerfile") in files
    problems: list[str] = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        problems += [
            f"{path.name}: {kind}"
            for kind, shape in CREDENTIAL_SHAPES.items()
            if shape.search(text)
        ]
        if path == SECRET_EXAMPLE:
            # the example Secret: placeholders only
            data = load(path)["stringData"]
            problems += [
                f"{path.name}: {key}"
                for key, value in data.items()
                if not PLACEHOLDER.search(value)
            ]
        elif path.suffix == ".yaml":
            problems += [f"{path.name}{problem}" for problem in literal_secret_problems(load(path))]
        elif path.name == "Dockerfile":
            problems += [
                f"Dockerfile: {line}"
                for line in text.splitlines()
                if re.match(r"\s*(ENV|ARG)\b", line) and SECRET_VARIABLE.search(line.split("=")[0])
            ]
    assert problems == []


# --- the checks catch mistakes -----------------------------------------------------------


def test_the_endpoint_check_catches_mistakes(
    rasa_values: dict[str, Any], endpoints_yml: dict[str, Any]
) -> None:
    no_header = copy.deepcopy(rasa_values)
    del no_header["applicationSettings"]["endpoints"]["additionalEndpoints"]["action_endpoint"][
        "headers"
    ]
    assert endpoint_problems(no_header, endpoints_yml) == ["action endpoint headers None"]

    whole_domain = copy.deepcopy(rasa_values)
    del whole_domain["applicationSettings"]["endpoints"]["additionalEndpoints"]["action_endpoint"][
        "enable_selective_domain"
    ]
    assert endpoint_problems(whole_domain, endpoints_yml) == [
        "action endpoint sends the domain differently from endpoints.yml"
    ]

    charts_own_too = copy.deepcopy(rasa_values)
    charts_own_too["rasa-action-server"] = {"install": True}
    assert endpoint_problems(charts_own_too, endpoints_yml) == ["action_endpoint written twice"]

    in_memory = copy.deepcopy(rasa_values)
    in_memory["applicationSettings"]["endpoints"]["lockStore"]["type"] = "in_memory"
    in_memory["extraEnv"] = [e for e in in_memory["extraEnv"] if e["name"] != "LOCK_STORE_TYPE"]
    assert endpoint_problems(in_memory, endpoints_yml) == [
        "lock store 'in_memory', not redis",
        "LOCK_STORE_TYPE is not redis",
    ]

    plain_sql = copy.deepcopy(rasa_values)
    plain_sql["applicationSettings"]["endpoints"]["trackerStore"]["type"] = "sql"
    assert endpoint_problems(plain_sql, endpoints_yml) == ["tracker store 'sql'"]


def test_the_channel_check_catches_mistakes(
    rasa_values: dict[str, Any], credentials_yml: dict[str, Any]
) -> None:
    changed = copy.deepcopy(rasa_values)
    configured = changed["applicationSettings"]["credentials"]["additionalChannelCredentials"]
    del configured["callback_coach.channels.reminders.ReminderInput"]
    del configured["callback_coach.channels.rest.CoachRestInput"]
    configured["rest"] = {}
    configured["callback_coach.channels.slack.CoachSlackInput"]["slack_token"] = "${SLACK}"
    assert sorted(channel_problems(changed, credentials_yml)) == [
        "callback_coach.channels.slack.CoachSlackInput: slack_token is '${SLACK}', "
        "credentials.yml has '${SLACK_TOKEN}'",
        "missing channel callback_coach.channels.reminders.ReminderInput",
        "missing channel callback_coach.channels.rest.CoachRestInput",
        "unknown channel rest",
    ]
    assert unset_variable_problems(changed) == ["${SLACK} is never set"]


def test_the_secret_checks_catch_mistakes(rasa_values: dict[str, Any]) -> None:
    keys = secret_keys()
    changed = copy.deepcopy(rasa_values)
    for entry in changed["extraEnv"]:
        if entry["name"] == "ACTION_SERVER_TOKEN":
            del entry["valueFrom"]
            entry["value"] = "a-token-written-into-the-values"
        if entry["name"] == "SLACK_TOKEN":
            entry["valueFrom"]["secretKeyRef"]["key"] = "slack"
    changed["extraEnv"] = [e for e in changed["extraEnv"] if e["name"] != "DATABASE_URL"]
    changed["extraEnv"].append({"name": "RASA_ENABLE_API", "value": "true"})
    assert secret_env_problems(changed, keys, required_secrets(changed)) == [
        "DATABASE_URL is not set",
        "RASA_API_TOKEN is not set",
        "ACTION_SERVER_TOKEN is not from a secretKeyRef",
        "SLACK_TOKEN refers to {'name': 'callback-coach', 'key': 'slack'}, not a key of the Secret",
    ]
    (literal,) = literal_secret_problems(changed)
    assert literal.startswith(".extraEnv[") and literal.endswith(
        "(ACTION_SERVER_TOKEN) holds a value"
    )

    in_place = copy.deepcopy(rasa_values)
    in_place["applicationSettings"]["credentials"]["additionalChannelCredentials"][
        "callback_coach.channels.reminders.ReminderInput"
    ]["secret"] = "written-in-the-values"
    # built here, so that the secret scan of tracked files does not find it
    in_place["redis"]["password"] = "xoxb-" + "1" * 9 + "-" + "a" * 12
    assert sorted(literal_secret_problems(in_place)) == [
        ".applicationSettings.credentials.additionalChannelCredentials"
        ".callback_coach.channels.reminders.ReminderInput.secret holds a value",
        ".redis.password holds a value",
        ".redis.password: Slack token",
    ]


# --- nginx -------------------------------------------------------------------------------


def require_nginx() -> None:
    """Skips (fails on CI) when Debian's nginx is not installed."""
    if not NGINX.exists():
        message = f"{NGINX} is missing (`make test` installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def test_nginx_does_not_serve_the_reminders_channel_publicly(tmp_path: Path) -> None:
    """The template's public side refuses the internal channel (real nginx, no replicas
    behind it: a routed request gets 502, a refused one 404)."""
    require_nginx()
    rasa_port, action_port, public_port, internal_port = distinct_free_ports(4)
    nginx = start_nginx(tmp_path, [rasa_port], [action_port], public_port, internal_port)
    try:
        public = f"http://127.0.0.1:{public_port}"
        internal = f"http://127.0.0.1:{internal_port}"
        reminder: dict[str, Any] = {"sender": "someone", "reminder_id": 1}
        assert (
            requests.post(
                f"{public}/webhooks/reminders/deliver", json=reminder, timeout=10
            ).status_code
            == 404
        )
        assert (
            requests.post(f"{public}/webhooks/rest/webhook", json={}, timeout=10).status_code == 502
        )
        assert (
            requests.post(
                f"{internal}/webhooks/reminders/deliver", json=reminder, timeout=10
            ).status_code
            == 502
        )
    finally:
        nginx.stop()


# --- limits per client address -----------------------------------------------------------

NGINX_TEMPLATE = DEPLOY / "nginx" / "callback-coach.conf.template"
# What ingress-nginx needs to limit per address; limit-rps x limit-burst-multiplier is
# the burst.
INGRESS_LIMITS = (
    "nginx.ingress.kubernetes.io/limit-rps",
    "nginx.ingress.kubernetes.io/limit-burst-multiplier",
    "nginx.ingress.kubernetes.io/limit-connections",
)
NginxBlock = list[tuple[list[str], "NginxBlock | None"]]


def parse_nginx(text: str) -> NginxBlock:
    """nginx's config as nested (directive words, block or None) lists; enough for the
    template (no quoted braces or semicolons)."""
    without_comments = re.sub(r"#[^\n]*", "", text)
    # a word may hold the template's ${placeholders}
    tokens = re.findall(r"[{};]|(?:\$\{\w+\}|[^\s{};])+", without_comments)
    position = 0

    def block() -> NginxBlock:
        nonlocal position
        entries: NginxBlock = []
        words: list[str] = []
        while position < len(tokens):
            token = tokens[position]
            position += 1
            if token == ";":
                entries.append((words, None))
                words = []
            elif token == "{":
                entries.append((words, block()))
                words = []
            elif token == "}":
                return entries
            else:
                words.append(token)
        return entries

    return block()


def directives(block: NginxBlock, name: str) -> list[list[str]]:
    return [words[1:] for words, _ in block if words and words[0] == name]


def public_locations(config: NginxBlock) -> dict[str, NginxBlock]:
    """The public server's locations by their match ("= /", "/webhooks/"...)."""
    (http,) = [inner for words, inner in config if words == ["http"] and inner is not None]
    servers = [inner for words, inner in http if words == ["server"] and inner is not None]
    (public,) = [
        server
        for server in servers
        if any("public_port" in words[0] for words in directives(server, "listen"))
    ]
    return {
        " ".join(words[1:]): inner
        for words, inner in public
        if words and words[0] == "location" and inner is not None
    }


def address_limit_problems(template: str) -> list[str]:
    """Every public location that reaches Rasa limits requests and connections per
    client address, in zones keyed on the address, and says 429 when over."""
    config = parse_nginx(template)
    (http,) = [inner for words, inner in config if words == ["http"] and inner is not None]
    request_zones = {
        args[1].removeprefix("zone=").split(":")[0]
        for args in directives(http, "limit_req_zone")
        if args[0] == "$$binary_remote_addr"
    }
    connection_zones = {
        args[1].removeprefix("zone=").split(":")[0]
        for args in directives(http, "limit_conn_zone")
        if args[0] == "$$binary_remote_addr"
    }
    problems = [
        f"{name} is not 429"
        for name in ("limit_req_status", "limit_conn_status")
        if directives(http, name) != [["429"]]
    ]
    if not request_zones or not connection_zones:
        problems.append("no zone keyed on the client address")
    locations = public_locations(config)
    proxied = [match for match, inner in locations.items() if directives(inner, "proxy_pass")]
    if not {"/socket.io/", "/webhooks/"} <= set(proxied):
        problems.append(f"the chat locations are not all there: {sorted(proxied)}")
    for match in proxied:
        inner = locations[match]
        requests_limited = [
            args
            for args in directives(inner, "limit_req")
            if args[0].removeprefix("zone=") in request_zones
            and any(arg.startswith("burst=") for arg in args)
        ]
        if not requests_limited:
            problems.append(f"location {match}: no limit_req per address with a burst")
        if not any(args[0] in connection_zones for args in directives(inner, "limit_conn")):
            problems.append(f"location {match}: no limit_conn per address")
    return problems


def ingress_limit_problems(values: dict[str, Any]) -> list[str]:
    annotations = values["ingress"]["annotations"]
    problems = []
    for name in INGRESS_LIMITS:
        value = str(annotations.get(name, ""))
        if not (value.isdigit() and int(value) > 0):
            problems.append(f"{name} is {annotations.get(name)!r}")
    return problems


def test_nginx_limits_every_chat_location_per_client_address() -> None:
    template = NGINX_TEMPLATE.read_text(encoding="utf-8")
    assert address_limit_problems(template) == []
    # the platforms' webhooks, which bring many people's messages from a few
    # addresses, are limited too (in a roomier zone)
    locations = public_locations(parse_nginx(template))
    for match in ("/webhooks/slack/", "/webhooks/telegram/", "/socket.io/", "/webhooks/", "= /"):
        assert directives(locations[match], "limit_req"), match


def test_the_ingress_limits_each_client_address(rasa_values: dict[str, Any]) -> None:
    assert ingress_limit_problems(rasa_values) == []
    annotations = rasa_values["ingress"]["annotations"]
    # the same burst as the nginx template's chat locations
    burst = int(annotations["nginx.ingress.kubernetes.io/limit-rps"]) * int(
        annotations["nginx.ingress.kubernetes.io/limit-burst-multiplier"]
    )
    locations = public_locations(parse_nginx(NGINX_TEMPLATE.read_text(encoding="utf-8")))
    assert f"burst={burst}" in directives(locations["/webhooks/"], "limit_req")[0]
    # the Ingress serves only the paths the limits cover
    ingress = rasa_values["ingress"]
    paths = [ingress["path"]] + [extra["path"] for extra in ingress["extraPaths"]]
    assert paths == ["/webhooks/", "/socket.io/"]


def test_the_limit_checks_catch_mistakes(rasa_values: dict[str, Any]) -> None:
    template = NGINX_TEMPLATE.read_text(encoding="utf-8")
    # a new chat location without limits
    unlimited = template.replace(
        "        location /webhooks/ {",
        "        location /webhooks/new/ {\n            proxy_pass http://rasa_replicas;\n"
        "        }\n\n        location /webhooks/ {",
    )
    assert address_limit_problems(unlimited) == [
        "location /webhooks/new/: no limit_req per address with a burst",
        "location /webhooks/new/: no limit_conn per address",
    ]
    # limits keyed on something else than the address, and nginx's default 503
    elsewhere = template.replace("zone $$binary_remote_addr", "zone $$server_name").replace(
        "limit_req_status 429;", ""
    )
    assert address_limit_problems(elsewhere)[:2] == [
        "limit_req_status is not 429",
        "no zone keyed on the client address",
    ]

    changed = copy.deepcopy(rasa_values)
    annotations = changed["ingress"]["annotations"]
    del annotations["nginx.ingress.kubernetes.io/limit-connections"]
    annotations["nginx.ingress.kubernetes.io/limit-rps"] = "0"
    assert ingress_limit_problems(changed) == [
        "nginx.ingress.kubernetes.io/limit-rps is '0'",
        "nginx.ingress.kubernetes.io/limit-connections is None",
    ]


def test_nginx_answers_429_to_an_address_over_its_limit(tmp_path: Path) -> None:
    """Real nginx with no replicas behind it: requests within the burst are passed on
    (502), then the address is refused with 429 until its rate allows again."""
    require_nginx()
    rasa_port, action_port, public_port, internal_port = distinct_free_ports(4)
    nginx = start_nginx(tmp_path, [rasa_port], [action_port], public_port, internal_port)
    try:
        public = f"http://127.0.0.1:{public_port}"
        with requests.Session() as client:
            statuses = [
                client.post(f"{public}/webhooks/rest/webhook", json={}, timeout=10).status_code
                for _ in range(60)
            ]
            socketio = [
                client.get(f"{public}/socket.io/", timeout=10).status_code for _ in range(5)
            ]
        # the first request and its burst of 30 pass at once; then 5 a second do
        assert statuses[:31] == [502] * 31 and 429 in statuses, statuses
        assert set(statuses) == {502, 429}
        # the address is over its limit on the other chat routes as well
        assert 429 in socketio, socketio
    finally:
        nginx.stop()


FORWARDED = {"Host": "$$http_host", "X-Forwarded-Proto": "$$scheme"}


def forwarding_problems(template: str) -> list[str]:
    """Each proxied public location sends the browser's Host (with its port) and scheme,
    which the socket's same-origin check compares with the Origin. A location that sets
    any header of its own inherits none of the server's, so it must set these too."""
    config = parse_nginx(template)
    (http,) = [inner for words, inner in config if words == ["http"] and inner is not None]
    servers = [inner for words, inner in http if words == ["server"] and inner is not None]
    (public,) = [s for s in servers if any("public_port" in w[0] for w in directives(s, "listen"))]
    server_headers = {args[0]: args[1] for args in directives(public, "proxy_set_header")}
    problems = []
    for match, inner in public_locations(config).items():
        if not directives(inner, "proxy_pass"):
            continue
        own = {args[0]: args[1] for args in directives(inner, "proxy_set_header")}
        sent = own if own else server_headers
        for name, value in FORWARDED.items():
            if sent.get(name) != value:
                problems.append(f"location {match}: {name} is {sent.get(name)!r}")
    return problems


def test_nginx_forwards_host_and_scheme_on_every_chat_location() -> None:
    template = NGINX_TEMPLATE.read_text(encoding="utf-8")
    assert forwarding_problems(template) == []
    # the mistake this guards against: a location with headers of its own, without Host
    broken = template.replace("            proxy_set_header Host $$http_host;\n", "", 1)
    assert any("/socket.io/" in problem for problem in forwarding_problems(broken))
