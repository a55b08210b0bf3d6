from services.approvals.tables import SCHEMA, metadata
from services.common.migrate import run_env

run_env(metadata, SCHEMA)
