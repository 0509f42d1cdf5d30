"""Data quality: Great Expectations suites, warn-level rules, the one reader of check status,
and the data behind the quality report."""
