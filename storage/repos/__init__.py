"""Repositories: read and write one concern each, inside the unit of work's transaction.

None of them commits; only ``UnitOfWork.commit`` does.
"""
