# Concierge: the two commands are `make run` and `make test`. Everything else is for trainers and developers.
.DEFAULT_GOAL := help
SHELL := /bin/bash
BOT := .venv/bot/bin
ROUTING := .venv/routing/bin

.PHONY: help setup train run run-cluster test test-cluster test-routing test-actions test-e2e services validate clean bench bench-quick bench-profile bench-cluster eval-nlu fuzz-dialogue fuzz-channels digressions phrasings \
	report export-reviews shell interactive settings-table

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

setup: ## install the missing runtimes (.venv/bot, .venv/routing); reused afterwards
	@scripts/setup.sh

train: setup ## train the Rasa model if config.yml, domain.yml or data/ changed
	@scripts/train.sh

run: train ## install, train if needed, start everything and print the URLs (Ctrl-C stops)
	@$(ROUTING)/python -m launcher

run-cluster: ## the production layout: 2 replicas of Rasa, actions and routing on PostgreSQL + Redis, behind nginx
	@CONCIERGE_NEED_NGINX=1 scripts/setup.sh
	@scripts/train.sh
	@scripts/services.sh
	@$(ROUTING)/python -m launcher --cluster

test-cluster: ## the cluster end-to-end test alone (real replicas behind nginx, Chromium, kill -9 of one Rasa and one routing mid-run)
	@CONCIERGE_NEED_BROWSER=1 CONCIERGE_NEED_NGINX=1 scripts/setup.sh
	@scripts/train.sh
	@CONCIERGE_ENV=development $(ROUTING)/python -m pytest -q tests/cluster

test: ## install, train if needed, and run every test
	@CONCIERGE_NEED_BROWSER=1 CONCIERGE_NEED_NGINX=1 scripts/setup.sh
	@scripts/train.sh
	@scripts/test.sh

bench: train ## measure everything against its baselines (full, states its duration); reports/bench.md
	@$(ROUTING)/python -m bench

bench-quick: train ## the same in under 5 minutes (smaller counts, no training time)
	@$(ROUTING)/python -m bench --quick

bench-profile: train ## where a turn's CPU goes: the bot section, then py-spy on each process; reports/bench-profile.md
	@$(ROUTING)/python -m bench --quick --profile

bench-cluster: ## production figures: cluster of 1 and 2 replicas vs embedded and bare bot, 1M look-ups on PostgreSQL, claims; reports/bench-cluster.md
	@CONCIERGE_NEED_NGINX=1 scripts/setup.sh
	@scripts/train.sh
	@scripts/services.sh
	@$(ROUTING)/python -m bench --cluster

services: ## start PostgreSQL / Redis / RabbitMQ if they are installed but down
	@scripts/services.sh

validate: setup ## rasa data validate --fail-on-warnings + project checks (intents, rules, responses, policy file)
	@$(BOT)/python scripts/validate_data.py

fuzz-dialogue: train ## random conversations checked turn by turn; failures as test stories in reports/fuzz/; ARGS="--conversations 1000 --seed 7"
	@CONCIERGE_ENV=development $(ROUTING)/python -m fuzz $(ARGS)

fuzz-channels: train ## odd senders, texts, metadata, bodies and packets on the REST and socket.io channels; every process checked after each case; reports/fuzz-channels/; ARGS="--cases 1000 --seed 7"
	@CONCIERGE_ENV=development $(ROUTING)/python -m fuzz.channels $(ARGS)

digressions: setup ## rewrite data/rules/digressions.yml (a customer changing the subject mid-task) from the other rules
	@$(BOT)/python scripts/digressions.py

phrasings: setup ## rewrite data/nlu/phrasings.yml (each intent's words in customers' frames) from data/grammar.yml
	@$(BOT)/python scripts/phrasings.py

eval-nlu: train ## NLU accuracy / macro-F1 / confusion PNG on ../shared datasets or ARGS="--data my.csv" (reports/)
	@$(BOT)/python scripts/eval_nlu.py $(ARGS)

report: train ## NLU figures + plots, test stories, change since last time: reports/report.{md,html}; ARGS="--limit 500"
	@$(BOT)/python scripts/report.py $(ARGS)

settings-table: setup ## rewrite docs/settings.md (every CONCIERGE_* variable) from docs/settings.yml and routing/settings.py
	@$(ROUTING)/python scripts/settings_table.py

export-reviews: setup ## conversations that ended with a human -> reviews/<date>/ (masked); ARGS="--since 2026-11-01"
	@$(BOT)/python scripts/export_reviews.py $(ARGS)

# `make shell` / `make interactive` start nothing else: run them next to a running `make run` (same ports and
# tracker store; endpoints.yml needs CONCIERGE_ACTIONS_PORT, CONCIERGE_ACTIONS_TOKEN and CONCIERGE_TRACKER_DB). Their
# own server uses port 5006.
TRAINER_ENV := CONCIERGE_ACTIONS_PORT=$${CONCIERGE_ACTIONS_PORT:-5055} \
	CONCIERGE_ACTIONS_TOKEN=$${CONCIERGE_ACTIONS_TOKEN:-dev-only-change-me} \
	CONCIERGE_TRACKER_DB=$${CONCIERGE_TRACKER_DB:-var/tracker.db} TF_CPP_MIN_LOG_LEVEL=2

shell: ## chat with the trained bot in the terminal (needs `make run` running: actions + routing service)
	@$(TRAINER_ENV) $(BOT)/rasa shell --model models/concierge.tar.gz --endpoints endpoints.yml --port 5006

interactive: ## teach the bot turn by turn and save stories/NLU (needs `make run` running)
	@$(TRAINER_ENV) $(BOT)/rasa interactive --model models/concierge.tar.gz --endpoints endpoints.yml --port 5006 \
		--skip-visualization

clean: ## remove the runtimes, models and local databases
	rm -rf .venv models/*.tar.gz models/.fingerprint var
