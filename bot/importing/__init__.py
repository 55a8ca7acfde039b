"""Importing a roster into the database: columns, rows, runs, undoing a mistaken import, a roster
sent in chat."""
