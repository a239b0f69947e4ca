"""Run records: the answer store, the recorder (results.json), its reader, summary rows, statistics."""
