"""Storage and SQL plumbing: the engine, tables, migrations, transactions, prepared statements, the writer lock, the WAL checkpoint and LISTEN/NOTIFY."""
