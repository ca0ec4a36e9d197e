# Two commands: `make run` and `make test`. Each sets up .venv from requirements.txt when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)
PORT ?= 8501

.PHONY: run test serve-lan bench train clean

$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10 or newer is needed")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/streamlit run app.py --server.address localhost --server.port $(PORT)

# For a classroom: listen on every interface so students on the same network can open
# http://<this computer's address>:$(PORT). Only do this on a network you trust.
serve-lan: $(STAMP)
	$(BIN)/streamlit run app.py --server.address 0.0.0.0 --server.port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m bench

train: $(STAMP)
	$(BIN)/python -m models.train

clean:
	rm -rf $(VENV) .pytest_cache .cache
