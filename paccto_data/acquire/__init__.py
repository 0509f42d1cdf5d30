"""Getting raw files: the source records (assets/sources/*.yaml), snapshots and live
downloads through the one HTTP client, and the one promoter of new files into a snapshot."""
