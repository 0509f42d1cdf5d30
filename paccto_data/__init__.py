"""paccto-data: open crime, drug-seizure and corruption indicators for Latin America and the
Caribbean, joined to the activities of the EU programme EL PAcCTO 2.0."""
