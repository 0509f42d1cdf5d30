"""The DuckDB warehouse: the one way to write a table, the SQL models (sql/), the reference
frames and data dictionary, and the analyst release."""
