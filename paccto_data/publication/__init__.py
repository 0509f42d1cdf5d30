"""Frictionless data packages: spec, licence gate, tables, versions, documents, validation
and the release of the published folder."""
