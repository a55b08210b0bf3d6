"""Payment requests to suppliers (SM-6): manager → approval (CEO) → accountant pays and
records the closing documents."""

from services.gateway.routes.spends import spend_router

router = spend_router("supplier_payment", "/payment-requests", "payment request", closing=True)
