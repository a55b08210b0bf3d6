import services.deals.activities_tables  # noqa: F401  (its tables join the metadata)
import services.deals.automation_tables  # noqa: F401  (its tables join the metadata)
import services.deals.products_tables  # noqa: F401  (its tables join the metadata)
from services.common.migrate import run_env
from services.deals.tables import SCHEMA, metadata

run_env(metadata, SCHEMA)
