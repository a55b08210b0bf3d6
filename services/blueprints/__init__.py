"""Company blueprints: a company's whole configuration (org, pipelines and lead funnels with
their stages, fields and rules, lists, approval templates, contract types, the calendar) as
one YAML file, checked whole, applied through the services' gRPC APIs and exported back.

A client package: the gateway and the command line call it with their stubs; it touches no
service's tables.
"""
