"""Live events for front ends (`GET /api/v1/events`, server-sent events): the hub that
follows the event streams once per gateway process, and who may see which event."""
