# Two commands: `make demo` and `make test`. Each creates .venv if missing and installs the project
# with the lab and dev extras (pinned by constraints.txt); a second run only re-installs when
# pyproject.toml or constraints.txt changed.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME := $(CURDIR)/.dagster_home
export NUMBA_CACHE_DIR := $(CURDIR)/.cache/numba
export DAGSTER_DISABLE_TELEMETRY := 1

.PHONY: demo test ui mlflow-ui install lock clean-venv

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24,<27"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[lab,dev]'
	@touch $(STAMP)

install: $(STAMP)

$(DAGSTER_HOME)/dagster.yaml:
	@mkdir -p $(DAGSTER_HOME)
	@printf 'telemetry:\n  enabled: false\n' > $@

DATA_ROOT ?= data

# The demo's FeatureSpec: FS_2026-01-16_002 (the design's families over 5-30 minute windows as well;
# FS_2026-01-16_001 is the design's example verbatim and runs the same way with SPEC_ID=...).
SPEC_ID ?= FS_2026-01-16_002
ARTIFACTS_ROOT ?= artifacts
# The last day of the default lake's test period, replayed through the runtime with the new artifact.
REPLAY_DAY ?= 2025-04-29

demo: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/sigma9 spec validate feature_specs/*.yaml run_configs/*.yaml
	@test -f $(DATA_ROOT)/lake.json || $(BIN)/sigma9 lake synth --root $(DATA_ROOT)
	$(BIN)/sigma9 lake info --root $(DATA_ROOT)
	SIGMA9_DATA_ROOT=$(DATA_ROOT) SIGMA9_ARTIFACTS_ROOT=$(ARTIFACTS_ROOT) $(BIN)/sigma9 lab run --spec-id $(SPEC_ID)
	$(BIN)/sigma9 replay --root $(DATA_ROOT) --date $(REPLAY_DAY) --spec feature_specs/$(SPEC_ID).yaml \
		--artifacts $(ARTIFACTS_ROOT) --param ml_weight=0.5 --from 09:30 --to 11:00 \
		--out $(DATA_ROOT)/replay/alerts-$(REPLAY_DAY).jsonl

test: $(STAMP)
	$(BIN)/python -m pytest

ui: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

# The lab's experiment history (MLflow): the lab logs every run with mlflow-skinny (a client) to the embedded
# SQLite store mlflow/mlflow.db, or to $SIGMA9_MLFLOW_URI. The UI is the full mlflow package of the same version,
# in a virtual environment of its own: its server needs an older pyarrow than the runtime pins.
MLFLOW_VERSION := 3.17.2
MLFLOW_VENV := .venv-mlflow
MLFLOW_URI ?= sqlite:///$(CURDIR)/mlflow/mlflow.db

$(MLFLOW_VENV)/.installed:
	@test -x $(MLFLOW_VENV)/bin/python || $(PYTHON) -m venv $(MLFLOW_VENV)
	$(MLFLOW_VENV)/bin/python -m pip install --quiet "mlflow==$(MLFLOW_VERSION)"
	@touch $@

mlflow-ui: $(MLFLOW_VENV)/.installed
	@mkdir -p mlflow
	$(MLFLOW_VENV)/bin/mlflow ui --backend-store-uri $(MLFLOW_URI) -h 127.0.0.1 -p 5000

# Refresh constraints.txt from the current .venv (after a deliberate upgrade).
lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable --exclude sigma9-lab > constraints.txt

clean-venv:
	rm -rf $(VENV) $(MLFLOW_VENV)
