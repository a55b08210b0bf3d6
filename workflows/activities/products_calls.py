"""Workflow-side typed calls of the product activities, by name (see calls.py)."""

from __future__ import annotations

from workflows.activities.products_types import DealItemsInfo, GetDealItemsInput
from workflows.activities.retry import call


async def get_deal_items(inp: GetDealItemsInput) -> DealItemsInfo:
    return await call("get_deal_items", inp, DealItemsInfo)
