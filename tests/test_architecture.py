"""The architecture holds: solver imports only in optimizer/, modules of bounded size, every module documented."""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("planner", "optimizer", "geo", "ui", "data")
MAX_LINES = 800


def modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (REPO / package).rglob("*.py"))


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_the_package_list_covers_the_code():
    assert len(modules()) > 60


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(REPO)))
def test_no_solver_import_outside_the_optimizer(path):
    if path.relative_to(REPO).parts[0] == "optimizer":
        return
    assert not imported(path) & {"highspy", "pulp"}, f"{path.relative_to(REPO)} imports a solver"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(REPO)))
def test_no_module_is_over_the_size_limit(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(REPO)} has {lines} lines"


def test_the_architecture_page_names_every_module():
    page = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = []
    for path in modules():
        relative = path.relative_to(REPO)
        # data/ installs as the package edwc_data: the page names its modules by the package name.
        shown = Path("edwc_data", *relative.parts[1:]) if relative.parts[0] == "data" else relative
        if relative.parts[:2] == ("ui", "app_pages"):
            shown = Path("ui/app_pages/*.py")
        if f"`{shown.as_posix()}`" not in page:
            missing.append(shown.as_posix())
    assert not missing, f"docs/architecture.md does not name: {', '.join(missing)}"


def test_the_ground_floor_imports_no_other_package():
    for path in (REPO / "data").glob("*.py"):
        assert not imported(path) & {"planner", "optimizer", "geo", "ui"}, path.name


def test_floors_import_only_downwards():
    # optimizer and geo sit on the ground floor; planner above them; ui on top.
    allowed = {"optimizer": {"edwc_data", "optimizer"}, "geo": {"edwc_data", "geo", "optimizer"},
               "planner": {"edwc_data", "optimizer", "geo", "planner"}}
    project = {"edwc_data", "optimizer", "geo", "planner", "ui"}
    for package, may in allowed.items():
        for path in (REPO / package).rglob("*.py"):
            wrong = (imported(path) & project) - may
            assert not wrong, f"{path.relative_to(REPO)} imports {sorted(wrong)}"
