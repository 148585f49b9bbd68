# Two commands for a fresh machine:  make app  (the app on the demo data)  and  make test.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.stamp-install
ASSETS := static/vendor/.stamp-assets
PORT   ?= 8501
# This machine only. Serving beyond it (ADDRESS=0.0.0.0) needs sign-in: see README "Shared deployment".
ADDRESS ?= 127.0.0.1

.PHONY: app test venv assets demo bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

# Leaflet and plugins from the npm registry, served locally by Streamlit (no CDN needed).
$(ASSETS): package.json package-lock.json
	mkdir -p static/vendor
	cp package.json package-lock.json static/vendor/
	cd static/vendor && npm ci --silent --no-audit --no-fund
	touch $(ASSETS)

assets: $(ASSETS)

demo: $(STAMP)
	$(PY) -m hotspot_app.cli demo --out data/demo --geodata geodata/demo --if-missing

app: $(STAMP) $(ASSETS) demo
	$(PY) -m hotspot_app.ui.serve --server.headless true --server.port $(PORT) --server.address $(ADDRESS)

test: $(STAMP) $(ASSETS)
	$(PY) -m pytest -q

bench: $(STAMP) $(ASSETS)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) static/vendor .pytest_cache test-output
