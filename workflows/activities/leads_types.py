"""Inputs and outputs of the activities a process on a lead uses."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class LeadRefInput:
    lead_id: str


@dataclass
class LeadInfo:
    id: str
    pipeline_id: str
    stage_id: str
    stage_semantic: str  # in_progress | won | lost | spam
    title: str
    responsible_id: str
    deal_id: str = ""  # the deal it was converted into


@dataclass
class LoseLeadInput:
    """Close the lead in its funnel's first `lost` stage, the reason on its timeline."""

    lead_id: str
    reason: str


@dataclass
class ConvertLeadInput:
    """The deal made of the lead, handed to `responsible_id` ("" keeps the lead's)."""

    lead_id: str
    responsible_id: str = ""
    pipeline_id: str = ""  # "" -> the first deal pipeline
