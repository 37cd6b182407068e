"""The loyalty core: members, the points ledger, purchases and returns, earning rules, domain events.

Nothing here imports Flask: the API, the CLI, the scheduler and the tests all call these
operations directly, inside a session scope opened by their own entry point.
"""
