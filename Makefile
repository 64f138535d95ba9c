# Concierge: the two commands are `make run` and `make test`. Everything else is for trainers and developers.
.DEFAULT_GOAL := help
SHELL := /bin/bash
BOT := .venv/bot/bin
ROUTING := .venv/routing/bin

.PHONY: help setup train run test test-routing test-actions test-e2e services validate clean bench bench-quick eval-nlu

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

setup: ## install the missing runtimes (.venv/bot, .venv/routing); reused afterwards
	@scripts/setup.sh

train: setup ## train the Rasa model if config.yml, domain.yml or data/ changed
	@scripts/train.sh

run: train ## install, train if needed, start everything and print the URLs (Ctrl-C stops)
	@$(ROUTING)/python -m launcher

test: ## install, train if needed, and run every test
	@CONCIERGE_NEED_BROWSER=1 scripts/setup.sh
	@scripts/train.sh
	@scripts/test.sh

bench: train ## measure everything against its baselines (full, states its duration); reports/bench.md
	@$(ROUTING)/python -m bench

bench-quick: train ## the same in under 5 minutes (smaller counts, no training time)
	@$(ROUTING)/python -m bench --quick

services: ## start PostgreSQL / Redis / RabbitMQ if they are installed but down
	@scripts/services.sh

validate: setup ## rasa data validate --fail-on-warnings (EXTERNAL_* intents need no NLU examples)
	@$(BOT)/python scripts/validate_data.py

eval-nlu: train ## NLU accuracy / macro-F1 on ../shared datasets (reports/nlu_eval.md); ARGS="--limit 1000"
	@$(BOT)/python scripts/eval_nlu.py $(ARGS)

clean: ## remove the runtimes, models and local databases
	rm -rf .venv models/*.tar.gz models/.fingerprint var
