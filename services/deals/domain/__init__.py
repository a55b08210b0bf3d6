"""The deals domain: pipelines, custom fields, deals, lists and org rules. No I/O here."""
