# Quick start: `make run` starts the app, `make test` runs lint and every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test lint format bench clean install

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/onboarding init-db
	$(BIN)/onboarding seed-demo
	$(BIN)/onboarding serve

# Every step once, in one pytest session (stops at the first failing step); then how long
# each took. pytest prints its own "time per tier" (unit, web, api, mail, browser, ...).
# A quick loop without the slow property tests: `$(BIN)/pytest tests/unit -m "not slow"`.
TIMES := $(VENV)/.test-times
timed = @start=$$(date +%s%N); $(2); status=$$?; \
	echo "$$start $$(date +%s%N)" | awk '{printf "%-16s %8.1f s\n", "$(1)", ($$2 - $$1) / 1e9}' >> $(TIMES); \
	[ $$status -eq 0 ] || { echo "== time per step (stopped: $(1) failed)"; cat $(TIMES); }; \
	exit $$status

test: $(STAMP)
	@rm -f $(TIMES)
	$(call timed,lint,$(MAKE) --no-print-directory lint)
	$(call timed,playbooks check,$(BIN)/onboarding playbooks check)
	$(call timed,pytest,$(BIN)/pytest)
	@echo "== time per step"; cat $(TIMES)

# ruff, then the layer rule (pyproject.toml [tool.importlinter]; README "Layout").
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Every benchmark, each rewriting its section of bench/RESULTS.md (about 45 minutes).
bench: $(STAMP)
	$(BIN)/python bench/assess.py
	$(BIN)/python bench/cold.py
	$(BIN)/python bench/worker_start.py
	$(BIN)/python bench/pdf.py
	$(BIN)/python bench/page_ratio.py
	$(BIN)/python bench/http_load.py --chaos 1.5
	$(BIN)/python bench/dashboard.py
	$(BIN)/python bench/pdf_pages.py
	$(BIN)/python bench/sign.py
	$(BIN)/python bench/pdf_http.py
	$(BIN)/python bench/pdf_http.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
