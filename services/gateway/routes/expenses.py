"""Expenses (SN-6): registered, submitted for approval (heads), paid by the accountant;
paid ones linked to a deal add to its costs."""

from services.gateway.routes.spends import spend_router

router = spend_router("expense", "/expenses", "expense")
