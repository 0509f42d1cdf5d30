"""What researchers open in a browser: the catalogue page, the quality page, the charts and
the DCAT-AP record, rendered from templates."""
