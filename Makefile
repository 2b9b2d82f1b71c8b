# Callback Coach. Start here: `make run` to chat, `make test` to run every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV := $(PYTHON) -m uv
VENV := .venv
BIN := $(VENV)/bin
MODEL := models/callback-coach.tar.gz
TRAINING_INPUTS := config.yml domain.yml $(shell find data -name '*.yml' 2>/dev/null)

# Server settings (ports, DATABASE_URL, COACH_TIMEZONE...) come from the environment,
# with local defaults in callback_coach/launcher.py; see the README.
export RASA_TELEMETRY_ENABLED ?= false
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: help setup train run serve scale-demo test lint audit bench bench-ab bench-before-after bench-startup nlu-compare words retention clean

help:
	@echo "make run          chat with Callback Coach in this terminal (sets up and trains as needed)"
	@echo "make test         run every test"
	@echo "make serve        start the Rasa and action servers only"
	@echo "make scale-demo   two Rasa replicas, two action servers and nginx on PostgreSQL + Redis"
	@echo "make train        train the model if data or config changed"
	@echo "make lint         ruff and mypy"
	@echo "make audit        pip-audit over uv.lock (ignore list: pip-audit-ignore.txt; ADVISORY_DB=DIR offline)"
	@echo "make retention    delete conversations untouched for COACH_RETENTION_DAYS (180) days"
	@echo "make bench        measure training, start-up, memory and latency"
	@echo "make bench-before-after BEFORE=<commit>   this checkout against an earlier one"
	@echo "make bench-startup  start-up with compiled bytecode and from source"
	@echo "make nlu-compare  cross-validate our NLU pipeline against Rasa's default"
	@echo "make words        words and messages per coaching turn"

# uv, when missing, comes from PyPI. --inexact keeps the spaCy model package, which
# is not in the lock. --compile-bytecode writes every package's .pyc files now: where
# PYTHONDONTWRITEBYTECODE is set (as on our CI machines and in most Docker images)
# Python never caches them, and each server start compiled Rasa and TensorFlow from
# source again, more than half of its start-up time. (The stamp's name changed with
# that flag, so that venvs made before it sync once more.)
SYNCED := $(VENV)/.synced-compiled
$(SYNCED): uv.lock pyproject.toml
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen --inexact --compile-bytecode
	@touch $@

$(VENV)/.spacy-model: $(SYNCED) scripts/ensure_spacy_model.sh
	UV="$(UV)" BASE_PY="$(PYTHON)" bash scripts/ensure_spacy_model.sh
	@touch $@

# The chat widget's built script, from the npm registry, pinned by web/package-lock.json.
WEB_WIDGET := web/node_modules/rasa-webchat/lib/index.js
$(WEB_WIDGET): web/package-lock.json
	@command -v npm >/dev/null || { echo "error: npm is needed for the web chat widget (Debian: apt-get install npm)"; exit 1; }
	cd web && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

# Debian's Chromium, for the browser test of the widget.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@echo "Installing Debian's chromium for the browser test..."
	@SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get install -y --no-install-recommends chromium >/dev/null \
		|| { $$SUDO apt-get update -qq && $$SUDO apt-get install -y --no-install-recommends chromium >/dev/null; }

# Debian's nginx, the load balancer of `make scale-demo` and its test. Our nginx runs in
# the foreground with its own config under var/; policy-rc.d or a systemd host decide
# whether the package also starts its default site (see docs/production.md).
NGINX := /usr/sbin/nginx
$(NGINX):
	@echo "Installing Debian's nginx for the scale-out demo and test..."
	@SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=120 nginx >/dev/null \
		|| { $$SUDO apt-get update -qq && $$SUDO apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=120 nginx >/dev/null; }

setup: $(VENV)/.spacy-model $(WEB_WIDGET)

$(MODEL): $(TRAINING_INPUTS) | $(VENV)/.spacy-model
	@mkdir -p models var/logs
	@echo "Training the model (log: var/logs/train.log)..."
	@$(BIN)/rasa train --fixed-model-name callback-coach --out models > var/logs/train.log 2>&1 \
		|| { tail -n 40 var/logs/train.log; exit 1; }
	@touch $@
	@echo "Trained $(MODEL)."

train: $(MODEL)

run: $(MODEL) $(WEB_WIDGET)
	@$(BIN)/python -m callback_coach.launcher chat

serve: $(MODEL) $(WEB_WIDGET)
	@$(BIN)/python -m callback_coach.launcher serve

test: $(MODEL) lint audit $(WEB_WIDGET) $(CHROMIUM) $(NGINX)
	@mkdir -p var/logs
	$(BIN)/rasa data validate --fail-on-warnings > var/logs/validate.log 2>&1 \
		|| { cat var/logs/validate.log; exit 1; }
	$(BIN)/pytest

# DATABASE_URL, when set, is used as it is; otherwise a local database is created.
scale-demo: $(MODEL) $(WEB_WIDGET) $(NGINX)
	@$(BIN)/python -m callback_coach.cluster

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Known vulnerabilities in the locked dependencies; pip-audit runs outside .venv (see
# scripts/audit.py and docs/security.md). ADVISORY_DB=DIR checks against a local copy of
# an OSV-format advisory database instead, for networks that cannot reach PyPI's API.
audit: $(SYNCED)
	$(BIN)/python -m scripts.audit --uv "$(UV)" $(if $(ADVISORY_DB),--advisory-db "$(ADVISORY_DB)")

# Conversations and records untouched for COACH_RETENTION_DAYS, from DATABASE_URL
# (callback_coach/retention.py); run it daily, e.g. from cron. ARGS="--dry-run" counts only.
retention:
	$(BIN)/python -m callback_coach.retention $(ARGS)

bench: $(MODEL)
	$(BIN)/python -m scripts.bench

# Stock Rasa serving vs ours, interleaved (see README, Benchmark).
bench-ab: $(MODEL)
	$(BIN)/python -m scripts.bench_ab

# Start-up with the packages' compiled bytecode and from source, alternated.
bench-startup: $(MODEL)
	$(BIN)/python -m scripts.bench_startup

# This checkout against an earlier commit, interleaved: make bench-before-after BEFORE=<commit>
bench-before-after: $(MODEL)
	@test -n "$(BEFORE)" || { echo "usage: make bench-before-after BEFORE=<commit>"; exit 2; }
	$(BIN)/python -m scripts.bench_before_after --before $(BEFORE)

nlu-compare: setup
	$(BIN)/python -m scripts.nlu_compare

# Words and messages per coaching turn over generated conversations (README).
words: setup
	$(BIN)/python -m scripts.words_per_turn

clean:
	rm -rf models var .cache .mypy_cache .pytest_cache .ruff_cache web/node_modules
