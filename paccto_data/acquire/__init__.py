"""Getting raw files: the source records (assets/sources/*.yaml), snapshots and live
downloads through the one HTTP client, and the maintainers' refresh of a snapshot."""
