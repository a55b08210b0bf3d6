"""Rules that running processes depend on, shared by the services that own the facts and
the workflows that decide on them: approval chain templates, quorum, custom field values.

A change here can change the decisions of a process that is already running, so it is
made on purpose: the replay tests (tests/unit/workflows/test_replay.py) replay every
recorded history against it, and a behaviour change goes behind `workflow.patched()`.
"""
