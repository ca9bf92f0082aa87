# Task runner. Every target runs from the repository root and uses the virtual
# environment that the README's set-up command creates (override with VENV=...).
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
# nbgrader runs helper programs (alembic) by name: the environment's bin must come first.
export PATH := $(BIN):$(PATH)
COURSE := notebooks
ASSIGNMENT := capstone
# The student edition: where to write it, and the repository and hub its links point at.
EDITION ?= student-edition
STUDENT_REPO ?= <owner>/<repository>
HUB ?= https://<your-jupyterhub>
# Autograding: workers at once (one per core by default); FORCE=1 regrades what is already graded.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
FORCE ?=

.PHONY: run test lint notebooks export release student-edition autograde formgrader grades feedback docs

run:        ## the main job: train, optimize, benchmark, write results.json
	tinytorch-olympics run

test:       ## the whole test suite (what .ci/run runs)
	python -m pytest

lint:       ## ruff and mypy with pyproject.toml's settings (the test suite runs both too)
	ruff check . && mypy

notebooks:  ## build notebooks/source/capstone/capstone.ipynb from notebooks/capstone.py
	mkdir -p $(COURSE)/source/$(ASSIGNMENT)
	jupytext --to ipynb $(COURSE)/capstone.py -o $(COURSE)/source/$(ASSIGNMENT)/$(ASSIGNMENT).ipynb

export:     ## regenerate tinytorch/instructor/reference.py from the notebook's solution cells
	python -m tools.export_reference

release: notebooks  ## the student version, without solutions or hidden tests: notebooks/release/
	cd $(COURSE) && nbgrader generate_assignment $(ASSIGNMENT) --force

student-edition:  ## the student edition to publish as its own repository (no solution, no hidden check)
	python -m tools.edition --out "$(EDITION)" --repo "$(STUDENT_REPO)" --hub "$(HUB)"

autograde:  ## grade every notebooks/submitted/<student>/capstone/ with JOBS sandboxed workers; rerun to resume
	python -m tinytorch.instructor.grader.autograde $(ASSIGNMENT) --course $(COURSE) --jobs $(JOBS) $(if $(FORCE),--force)

formgrader: ## JupyterLab with nbgrader's formgrader in notebooks/, to grade the written answers by hand
	cd $(COURSE) && jupyter lab --ServerApp.root_dir=.

grades:     ## notebooks/grades.csv (totals) and notebooks/cell_grades.csv (every graded cell)
	cd $(COURSE) && nbgrader export && nbgrader export --exporter=tinytorch.instructor.grader.grades.CellGradesExport --to=cell_grades.csv

feedback:   ## HTML feedback per student in notebooks/feedback/
	cd $(COURSE) && nbgrader generate_feedback $(ASSIGNMENT) --force

docs:       ## the README's pictures: plots of the example results file and a generated class's leaderboard
	mkdir -p docs/images
	tinytorch-olympics plot schemas/examples/valid/optimized.json --out docs/images
	python -m tools.leaderboard_pictures
