"""REST resources. Each router carries the full path prefix itself (rather than getting it
from `include_router`), so a route's template, used as the metrics label, is its full path."""

API_PREFIX = "/api/v1"
