"""Workflow-side typed calls of the lead activities, by name (see calls.py)."""

from __future__ import annotations

from workflows.activities.leads_types import ConvertLeadInput, LeadInfo, LeadRefInput, LoseLeadInput
from workflows.activities.retry import call


async def get_lead(inp: LeadRefInput) -> LeadInfo:
    return await call("get_lead", inp, LeadInfo)


async def lose_lead(inp: LoseLeadInput) -> LeadInfo:
    return await call("lose_lead", inp, LeadInfo)


async def convert_lead(inp: ConvertLeadInput) -> LeadInfo:
    return await call("convert_lead", inp, LeadInfo)
