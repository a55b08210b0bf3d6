"""The automation facts on deal and lead events (services/deals/events.py): the rules
version of each pipeline involved and the record's waiting runs, only when asked for."""

from __future__ import annotations

from dataclasses import replace

from services.deals.crm_events import lead_event
from services.deals.domain.leads import LeadStageChanged
from services.deals.events import to_pending
from tests.unit.deals.test_contacts_leads import a_lead, funnel
from tests.unit.deals.test_deals import SALES, SERVICE, SERVICE_NEW, make_deal, move


def test_a_move_carries_both_pipelines_versions_and_the_deal_s_waiting_runs() -> None:
    deal = replace(make_deal(), waiting_runs=2)
    move(deal, SERVICE_NEW, target=SERVICE)
    moved = deal.events[-1]
    sales, service = replace(SALES, rules_version=4), replace(SERVICE, rules_version=9)
    data = to_pending(moved, deal, (sales, service)).data
    assert data["rules_versions"] == {"10": 4, "20": 9}
    assert data["waiting_runs"] == 2
    bare = to_pending(moved, deal).data  # a deal not read under its lock: nothing to trust
    assert "rules_versions" not in bare and "waiting_runs" not in bare


def test_a_lead_s_event_carries_its_funnel_s_version_when_given() -> None:
    leads = funnel()
    lead = a_lead(leads)
    lead = replace(lead, id=5, waiting_runs=1)
    event = LeadStageChanged(
        actor_id=1,
        from_stage_id=1,
        to_stage_id=2,
        from_stage="A",
        to_stage="B",
        transition="advanced",
        seconds_in_previous_stage=1.0,
        comment="",
    )
    data = lead_event(event, lead, replace(leads, rules_version=3)).data
    assert (data["rules_versions"], data["waiting_runs"]) == ({str(leads.id): 3}, 1)
    assert "waiting_runs" not in lead_event(event, lead).data
