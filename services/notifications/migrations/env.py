import services.notifications.feeds_tables  # noqa: F401  (its tables join the metadata)
from services.common.migrate import run_env
from services.notifications.tables import SCHEMA, metadata

run_env(metadata, SCHEMA)
