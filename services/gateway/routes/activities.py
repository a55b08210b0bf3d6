"""Activities: calls, e-mails and meetings on a deal, a lead or a contact, planned or done
(a done one on a deal fires the `activity_logged` rules), the caller's own, and marking a
planned one done."""

from __future__ import annotations

from typing import Literal

from dealflow.deals.v1 import activities_pb2 as pb
from fastapi import APIRouter, Path, Query

from services.common.protoconv import to_timestamp
from services.gateway.deps import Activities, CurrentUser
from services.gateway.idempotency import CreationKey
from services.gateway.problems import COMMON_RESPONSES, responses
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.activities import ActivityDoneIn, ActivityIn, ActivityOut
from services.gateway.schemas.common import RecordId

router = APIRouter(prefix=API_PREFIX, tags=["activities"], responses=COMMON_RESPONSES)

Status = Literal["planned", "done"] | None


def _record_routes(records: str) -> None:
    """POST and GET `/{records}/{id}/activities` for deals, leads and contacts."""
    name = f"{records[:-1]}_id"

    async def create_activity(
        body: ActivityIn,
        _: CurrentUser,
        activities: Activities,
        key: CreationKey,
        record_id: int = Path(alias=name, gt=0, lt=2**63),
    ) -> ActivityOut:
        """Plan an activity (`status: planned`, `due_at`) or log one done."""
        made = await activities.CreateActivity(
            pb.CreateActivityRequest(
                **{name: str(record_id)},
                kind=body.kind,
                status=body.status,
                assignee_id=str(body.assignee_id or ""),
                due_at=to_timestamp(body.due_at),
                done_at=to_timestamp(body.done_at),
                subject=body.subject,
                outcome=body.outcome,
                notes=body.notes,
                idempotency_key=key,
            )
        )
        return ActivityOut.of(made)

    async def list_activities(
        _: CurrentUser,
        activities: Activities,
        status: Status = None,
        limit: int = Query(100, ge=1, le=200),
        record_id: int = Path(alias=name, gt=0, lt=2**63),
    ) -> list[ActivityOut]:
        """The record's activities: planned ones by due time, then done ones newest first."""
        reply = await activities.ListActivities(
            pb.ListActivitiesRequest(**{name: str(record_id)}, status=status or "", limit=limit)
        )
        return [ActivityOut.of(a) for a in reply.activities]

    path = f"/{records}/{{{name}}}/activities"
    router.add_api_route(
        path,
        create_activity,
        methods=["POST"],
        status_code=201,
        responses=responses(403, 404),
        name=f"create_{records[:-1]}_activity",
    )
    router.add_api_route(
        path,
        list_activities,
        methods=["GET"],
        responses=responses(404),
        name=f"list_{records[:-1]}_activities",
    )


for _records in ("deals", "leads", "contacts"):
    _record_routes(_records)


@router.get("/activities")
async def my_activities(
    user: CurrentUser,
    activities: Activities,
    assignee: Literal["me"] = "me",
    status: Status = None,
    limit: int = Query(100, ge=1, le=200),
) -> list[ActivityOut]:
    """The caller's activities (`?assignee=me&status=planned`)."""
    reply = await activities.ListActivities(
        pb.ListActivitiesRequest(assignee_id=str(user.id), status=status or "", limit=limit)
    )
    return [ActivityOut.of(a) for a in reply.activities]


@router.get("/activities/{activity_id}", responses=responses(404))
async def get_activity(
    activity_id: RecordId, _: CurrentUser, activities: Activities
) -> ActivityOut:
    return ActivityOut.of(await activities.GetActivity(pb.GetActivityRequest(id=str(activity_id))))


@router.post("/activities/{activity_id}/done", responses=responses(403, 404))
async def complete_activity(
    activity_id: RecordId, body: ActivityDoneIn, _: CurrentUser, activities: Activities
) -> ActivityOut:
    """A planned activity done, with its outcome (a second call answers the done one)."""
    done = await activities.CompleteActivity(
        pb.CompleteActivityRequest(id=str(activity_id), outcome=body.outcome, notes=body.notes)
    )
    return ActivityOut.of(done)
