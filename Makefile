VENV := .venv
STAMP := $(VENV)/.installed
# Extra pytest arguments: make test ARGS='-k ledger -x'
ARGS ?=

.PHONY: translations venv run test test-sqlite test-postgres bench reliability clean

venv: $(STAMP) translations

# Reinstalls only when pyproject.toml changes (or the venv is gone).
$(STAMP): pyproject.toml
	@if [ ! -x $(VENV)/bin/python ]; then \
		if python3.11 -c 'import venv' >/dev/null 2>&1; then py=python3.11; else py=python3; fi; \
		echo "creating $(VENV) with $$py"; \
		$$py -m venv $(VENV); \
	fi
	PIP_DISABLE_PIP_VERSION_CHECK=1 $(VENV)/bin/pip install -e '.[test,postgres]'
	touch $(STAMP)

# The pages' translations, compiled whenever a catalog changes.
CATALOGS := $(wildcard api/translations/*/LC_MESSAGES/*.po)
COMPILED := $(patsubst %,%/LC_MESSAGES/messages.mo,$(wildcard api/translations/*))

translations: $(COMPILED)

api/translations/%/LC_MESSAGES/messages.mo: $(CATALOGS) | $(STAMP)
	$(VENV)/bin/python -m api.web.catalogs

run: venv
	$(VENV)/bin/timebank db upgrade
	$(VENV)/bin/timebank demo load
	exec $(VENV)/bin/timebank serve

test:
	bash scripts/test.sh $(ARGS)

test-sqlite:
	bash scripts/test.sh --sqlite $(ARGS)

test-postgres:
	bash scripts/test.sh --postgres $(ARGS)

# The long reliability runs (issue 8): more crash rounds and processes, and the load run.
reliability:
	TIMEBANK_RELIABILITY=full bash scripts/test.sh tests/reliability $(ARGS)

bench: venv
	$(VENV)/bin/timebank bench $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
	find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
