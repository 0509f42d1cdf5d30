"""The documentation stays true: every ```sql block of docs/*.md and README.md runs against a
freshly built and released warehouse, and the generated data dictionary (its DuckDB comments
model and docs/data-dictionary.md) is what assets/data_dictionary.yaml says."""

import re

import duckdb
import pytest
import yaml

from paccto_data.settings import PROJECT_ROOT, SQL_DIR
from paccto_data.warehouse.reference import (
    DATA_DICTIONARY_PATH,
    data_dictionary_markdown,
    data_dictionary_sql,
)

DOCUMENTS = sorted((PROJECT_ROOT / "docs").glob("*.md")) + [PROJECT_ROOT / "README.md"]
SQL_BLOCK = re.compile(r"^```sql\n(.*?)^```", re.MULTILINE | re.DOTALL)
BLOCKS = [(path, i, sql) for path in DOCUMENTS
          for i, sql in enumerate(SQL_BLOCK.findall(path.read_text(encoding="utf-8")), start=1)]
REGENERATE = ('python -c "from paccto_data.warehouse.reference import write_data_dictionary; '
              'write_data_dictionary()"')


def test_the_examples_are_found():
    names = {path.name for path, _, _ in BLOCKS}
    assert {"examples.md", "data-dictionary.md"} <= names
    assert sum(path.name == "examples.md" for path, _, _ in BLOCKS) >= 10


@pytest.fixture(scope="module")
def warehouse(warehouse_build):
    """The released warehouse of the session's build, read only."""
    with duckdb.connect(str(warehouse_build.settings.warehouse), read_only=True) as conn:
        yield conn


@pytest.mark.e2e
@pytest.mark.parametrize("path, number, sql", BLOCKS,
                         ids=[f"{p.name}#{n}" for p, n, _ in BLOCKS])
def test_every_sql_block_runs_and_answers(warehouse, path, number, sql):
    try:
        result = warehouse.execute(sql).fetchall()
    except duckdb.Error as exc:
        pytest.fail(f"{path.name}, SQL block {number} fails: {exc}\n{sql}")
    assert result, f"{path.name}, SQL block {number} returns no rows:\n{sql}"


def test_the_generated_dictionary_is_current():
    model = SQL_DIR / "marts" / "data_dictionary.sql"
    assert model.read_text(encoding="utf-8") == data_dictionary_sql(), \
        f"{model} is stale: run {REGENERATE}"
    doc = PROJECT_ROOT / "docs" / "data-dictionary.md"
    assert doc.read_text(encoding="utf-8") == data_dictionary_markdown(), \
        f"{doc} is stale: run {REGENERATE}"


def test_every_warehouse_model_is_in_the_dictionary():
    models = {f"{p.parent.name}.{p.stem}" for p in SQL_DIR.glob("*/*.sql")
              if p.parent.name in ("core", "marts")}
    tables = set(yaml.safe_load(DATA_DICTIONARY_PATH.read_text(encoding="utf-8"))["tables"])
    assert models - tables == set(), "describe these tables in assets/data_dictionary.yaml"
    assert tables - models == set(), "assets/data_dictionary.yaml describes tables no model builds"


def test_a_dictionary_entry_without_a_description_is_refused(tmp_path, monkeypatch):
    from paccto_data.warehouse import reference

    text = DATA_DICTIONARY_PATH.read_text(encoding="utf-8").replace(
        "        description: ISO 3166-1 alpha-2 code.\n", "        unit: code\n", 1)
    path = tmp_path / "data_dictionary.yaml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setattr(reference, "DATA_DICTIONARY_PATH", path)
    with pytest.raises(ValueError, match=r"core\.dim_country\.iso2: needs a description"):
        reference.data_dictionary()
