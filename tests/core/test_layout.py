"""The layout's rules, read from the source with ``ast`` (nothing is imported or run).

- ``models/`` holds folders by role; the only files directly in it are ``__init__.py`` and
  ``train.py`` (``python -m models.train``).
- A lab (``models/labs/<page key>.py``) is one page's experiment: it never imports another lab
  nor the training script, so a page can be read, changed or removed on its own. What two labs
  need lives in models/core, models/text or models/pretrained.
- ``models/core`` is the Transformer itself: it imports nothing above it (no text, pretrained,
  labs or training code, no components, pages or Streamlit).
- A page (``app_pages/<page key>.py``) uses its own lab and its own figures only
  (``models.labs.<key>``, ``components.figures.<key>``); what pages share is in
  ``components.figures.shared`` and the other modules of components/ and models/.
- The pages live in ``app_pages/``, never in ``pages/``: Streamlit treats a ``pages/`` folder next
  to the entry script as its legacy multipage layout until ``st.navigation`` has run once in the
  server process, so on a fresh server the first visitor who opens a deep link such as
  ``/bag_of_words`` would get that page run without app.py (no sidebar, no language, no wide
  layout). docs/ARCHITECTURE.md says the same.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"
LABS = MODELS / "labs"
CORE = MODELS / "core"
CORE_MAY_NOT_IMPORT = ("models.text", "models.pretrained", "models.labs", "models.train", "components",
                       "app_pages", "streamlit", "app")


def imported_modules(path: Path, root: Path = REPO) -> set[str]:
    """Every module a file imports, at the top or inside a function (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)  # "from models.labs import qkv"
    return names


def is_within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_models_holds_only_folders_and_the_training_script():
    loose = sorted(p.name for p in MODELS.iterdir() if p.is_file() and p.suffix == ".py")
    assert loose == ["__init__.py", "train.py"], f"put new modules in a folder by role, not in models/: {loose}"


def test_the_import_reader_sees_imports_inside_functions_and_relative_ones(tmp_path):
    lab = tmp_path / "models" / "labs" / "lab.py"
    lab.parent.mkdir(parents=True)
    lab.write_text("def f():\n    from models.labs import sampling\n    import models.train\n"
                   "from .masking import x\n", encoding="utf-8")
    names = imported_modules(lab, root=tmp_path)
    assert {"models.labs.sampling", "models.train", "models.labs.masking"} <= names


@pytest.mark.parametrize("lab", sorted(p.name for p in LABS.glob("*.py") if p.name != "__init__.py"))
def test_a_lab_imports_no_other_lab_nor_the_training_script(lab):
    own = f"models.labs.{lab.removesuffix('.py')}"
    wrong = sorted(name for name in imported_modules(LABS / lab)
                   if (is_within(name, "models.labs") and name not in ("models.labs", own)
                       and not is_within(name, own))
                   or is_within(name, "models.train"))
    assert not wrong, f"{lab} imports {wrong}: move what both need to models/core, models/text or models/pretrained"


@pytest.mark.parametrize("path", sorted(str(p.relative_to(REPO)) for p in CORE.rglob("*.py")))
def test_the_core_imports_nothing_above_it(path):
    wrong = sorted(name for name in imported_modules(REPO / path)
                   if any(is_within(name, package) for package in CORE_MAY_NOT_IMPORT))
    assert not wrong, f"{path} imports {wrong}; models/core must not depend on anything above it"


@pytest.mark.parametrize("page", sorted(p.name for p in (REPO / "app_pages").glob("*.py")))
def test_a_page_uses_only_its_own_lab_and_figures(page):
    key = page.removesuffix(".py")
    wrong = sorted(name for name in imported_modules(REPO / "app_pages" / page)
                   for package in ("models.labs", "components.figures")
                   if is_within(name, package) and name != package
                   and not is_within(name, f"{package}.{key}") and not is_within(name, "components.figures.shared"))
    assert not wrong, f"{page} imports {wrong}: move what two pages share to components/figures/shared.py or models/"


OWN_PACKAGES = ("models", "components", "bench")


@pytest.mark.parametrize("path", sorted(str(p.relative_to(REPO)) for folder in ("app_pages", *OWN_PACKAGES)
                                        for p in (REPO / folder).rglob("*.py")))
def test_every_name_imported_from_the_project_exists(path):
    """After a move, an import of a name that moved away fails here, without running any page."""
    import importlib

    tree = ast.parse((REPO / path).read_text(encoding="utf-8"))
    missing = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] in OWN_PACKAGES:
            module = importlib.import_module(node.module)
            missing += [f"{node.module}.{alias.name}" for alias in node.names if not hasattr(module, alias.name)
                        and importlib.util.find_spec(f"{node.module}.{alias.name}") is None]
    assert not missing, f"{path} imports names that do not exist: {missing}"


def test_pages_are_not_in_a_folder_streamlit_would_run_on_its_own():
    assert (REPO / "app_pages").is_dir()
    assert not (REPO / "pages").exists(), "rename pages/ to app_pages/: see this file's docstring"
