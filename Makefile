# Shop assistant: `make run` sets everything up and chats; `make test` runs every test.
SHELL := /bin/bash
PY311 ?= $(shell command -v python3.11 || echo "$$(pyenv root)/versions/3.11.7/bin/python3.11")
PY310 ?= $(shell echo "$$(pyenv root 2>/dev/null || echo $$HOME/.pyenv)/versions/3.10.13/bin/python3.10")
VENV := .venv
RASA_VENV := .venv-rasa
PY := $(VENV)/bin/python
RASA := $(RASA_VENV)/bin/rasa
PIP_QUIET := 2>&1 | { grep -v "^WARNING: Location" || true; }
RASA_INPUTS := config.yml $(shell find data bot/domain -name '*.yml' 2>/dev/null)
export RASA_TELEMETRY_ENABLED := false
# CI must not skip the PostgreSQL tests for want of a server.
export SHOP_REQUIRE_PG ?= $(if $(CI),1,0)

MODEL_DIR := var/models/gpt-small
MODEL_STAMP := $(MODEL_DIR)/train_log.json

.PHONY: help install demo train run test test-fast recommender serve-model bench eval clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

install: $(VENV)/.installed $(RASA_VENV)/.installed  ## create both Python environments

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PY311) -m venv $(VENV)
	set -o pipefail; $(PY) -m pip install -q -r requirements.txt $(PIP_QUIET)
	$(PY) -c "import torch, transformers, peft, sqlalchemy, rasa_sdk"
	touch $@

$(RASA_VENV)/.installed: bot/requirements.txt
	test -x $(RASA) || $(PY310) -m venv $(RASA_VENV)
	set -o pipefail; $(RASA_VENV)/bin/pip install -q -r bot/requirements.txt $(PIP_QUIET)
	$(RASA_VENV)/bin/python -c "import rasa, jieba"
	touch $@

demo: install  ## build the demo store into var/shop.db (reused when unchanged)
	$(PY) -m store build-demo

models/.trained: $(RASA_INPUTS) $(RASA_VENV)/.installed
	$(RASA) train --config config.yml --domain bot/domain --data data --out models --fixed-model-name shop
	touch $@

train: models/.trained  ## train the Rasa model (skipped when config, data and domain are unchanged)

# Retrained when the model code changes (a new serialization cannot read an old model).
$(MODEL_STAMP): $(filter-out recommender/evaluate.py recommender/report.py recommender/service_eval.py recommender/datasets_public.py,$(wildcard recommender/*.py))
	$(MAKE) demo
	rm -rf $(MODEL_DIR)
	$(PY) -m recommender.train --preset small --out $(MODEL_DIR)

run: install demo train $(MODEL_STAMP)  ## set up, start model server, store API, actions and Rasa; chat in the terminal
	$(PY) -m bot.launch

test: install train  ## the whole test suite (SQLite, PostgreSQL, real Rasa and action servers)
	$(PY) -m pytest -q

test-fast: install  ## unit tests only (no Rasa training or servers)
	$(PY) -m pytest -q -m "not rasa and not integration"

recommender: demo  ## retrain the GPT recommender from scratch (small preset, <= 15 min) into var/models/gpt-small
	rm -rf $(MODEL_DIR)
	$(PY) -m recommender.train --preset small --out $(MODEL_DIR)

serve-model: install $(MODEL_STAMP)  ## run the model server alone on the small model
	$(PY) -m recommender.serving --model-dir $(MODEL_DIR)

bench: install train $(MODEL_STAMP)  ## benchmarks: model server alone, then whole chat turns (results/bench)
	$(PY) -m recommender.serving.bench --model-dir $(MODEL_DIR)
	$(PY) -m bot.bench_turns --model-dir $(MODEL_DIR)

eval: demo  ## evaluate pop, co-occurrence, SASRec and the GPT model on the demo store (results/eval/demo)
	$(PY) -m recommender.evaluate --dataset demo

clean:  ## remove built artefacts (keeps the environments and the committed reports in results/)
	rm -rf models var .pytest_cache
