from services.common.migrate import run_env
from services.gateway.tables import SCHEMA, metadata

run_env(metadata, SCHEMA)
