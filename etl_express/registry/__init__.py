"""The service layer over the stores: validate, then write with its audit event, atomically.

    from etl_express.registry import scripts, tasks, runs, batches

Everything a user can change goes through here (API, CLI, UI); the stores below hold SQL only.
"""
