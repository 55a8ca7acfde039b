"""Auditing a roster or the database against every rule, changing nothing: the clerk's report and
the police list."""
