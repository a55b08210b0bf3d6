"""The worker: runs the process workflows and the activities that call the services, and
the stage triggers (workflows/triggers.py) that start processes from deal events.

`python -m workflows.worker`; settings from the environment (CommonSettings, WORKER_* for
its own). Stops gracefully on SIGTERM/SIGINT: in-flight activities finish, then it exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from datetime import timedelta

from dealflow.approvals.v1 import approvals_pb2_grpc
from dealflow.deals.v1 import (
    activities_pb2_grpc,
    automation_pb2_grpc,
    crm_pb2_grpc,
    deals_pb2_grpc,
    files_pb2_grpc,
    products_pb2_grpc,
)
from dealflow.finance.v1 import finance_pb2_grpc
from dealflow.notifications.v1 import notifications_pb2_grpc
from pydantic import Field
from pydantic_settings import SettingsConfigDict
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from services.common.grpc_client import channel
from services.common.logging import configure_logging
from services.common.settings import CommonSettings
from services.common.tracing import instrument_grpc_client, setup_tracing, temporal_interceptors
from workflows.activities.approvals import ApprovalActivities
from workflows.activities.automation import AutomationActivities
from workflows.activities.finance import FinanceActivities
from workflows.activities.invoices import InvoiceActivities
from workflows.activities.leads import LeadActivities
from workflows.activities.products import ProductActivities
from workflows.activities.reminders import ReminderActivities
from workflows.activities.services import ServiceActivities
from workflows.alerts_api import keep_alerts_started
from workflows.api import WORKFLOWS
from workflows.automation import AutomationRun
from workflows.consumers import Factory, run_consumers
from workflows.field_changes import FieldChanges
from workflows.invoice_changes import InvoiceChanges
from workflows.leadership_alerts import LeadershipAlerts
from workflows.reminder_plan import ReminderPlanWorkflow
from workflows.reminder_starts import ReminderStarts
from workflows.run_ends import RunEnds
from workflows.spend_starts import SpendStarts
from workflows.triggers import Triggers

log = logging.getLogger("workflows.worker")


class WorkerSettings(CommonSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    connect_timeout_seconds: float = Field(60.0, validation_alias="WORKER_CONNECT_TIMEOUT_SECONDS")
    shutdown_grace_seconds: float = Field(10.0, validation_alias="WORKER_SHUTDOWN_GRACE_SECONDS")
    max_concurrent_activities: int = Field(100, validation_alias="WORKER_MAX_CONCURRENT_ACTIVITIES")
    triggers: bool = Field(True, validation_alias="WORKER_TRIGGERS")  # stage rules from NATS
    # The SDK's sandbox re-imports (and, without bytecode files, compiles) every workflow
    # module for each workflow it creates: most of the worker's CPU per process start. The
    # tests' workers keep the SDK's default runner, so every workflow a unit test runs runs
    # in it (and tests/unit/workflows/test_worker.py has the sandbox check every process
    # module): that is where a non-deterministic call is caught. This worker runs them
    # without it unless `WORKER_WORKFLOW_SANDBOX=true` (tests/bench/README.md, fifth round).
    workflow_sandbox: bool = Field(False, validation_alias="WORKER_WORKFLOW_SANDBOX")
    # A fired rule run with nothing to wait for runs in the triggers, not as a workflow:
    # a tenth of the CPU, but found in the run log only, not in the Temporal UI (README
    # "Automation rules"); off, every run that fires is an `automation_run` workflow.
    inline_rule_runs: bool = Field(False, validation_alias="WORKER_INLINE_RULE_RUNS")
    # How long the triggers wait for a run with nothing to wait for (one eager workflow
    # task here) to end before the next event: runs one at a time per consumer, behind
    # the requests people wait for (workflows/run_ends.py); 0 starts them without waiting.
    rule_run_wait_seconds: float = Field(
        10.0, ge=0, validation_alias="WORKER_RULE_RUN_WAIT_SECONDS"
    )
    # Leadership alerts (SN-9): the digest's local time on working days, how long without
    # an activity a client is stale, how long a deal may lack a next activity before the head
    # hears; `WORKER_ALERTS=false` starts no alerts workflow.
    alerts: bool = Field(True, validation_alias="WORKER_ALERTS")
    alerts_digest_at: str = Field(
        "09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$", validation_alias="WORKER_ALERTS_DIGEST_AT"
    )
    alerts_stale_days: int = Field(14, ge=1, validation_alias="WORKER_ALERTS_STALE_DAYS")
    alerts_grace_hours: int = Field(24, ge=0, validation_alias="WORKER_ALERTS_GRACE_HOURS")


def workflow_runner(settings: WorkerSettings) -> WorkflowRunner:
    """Outside the SDK's sandbox unless the settings ask for it (`workflow_sandbox`)."""
    return SandboxedWorkflowRunner() if settings.workflow_sandbox else UnsandboxedWorkflowRunner()


async def connect_temporal(settings: WorkerSettings, runtime: Runtime | None = None) -> Client:
    """Connect, retrying while Temporal starts (the local stack starts everything at once)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.connect_timeout_seconds
    delay = 0.5
    while True:
        try:
            return await Client.connect(
                settings.temporal_address,
                namespace=settings.temporal_namespace,
                interceptors=temporal_interceptors(),
                runtime=runtime,
            )
        except Exception as exc:  # the SDK raises RuntimeError for a refused connection
            if loop.time() + delay > deadline:
                raise
            log.warning(
                "temporal not reachable yet",
                extra={"address": settings.temporal_address, "error": str(exc)},
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


def metrics_runtime(port: int) -> Runtime | None:
    """The SDK's own Prometheus exporter on the metrics port: workflow and activity
    counts and latencies (temporal_workflow_completed, temporal_activity_execution_latency,
    ...). None (the default runtime, no exporter) when metrics are off."""
    if not port:
        return None
    return Runtime(
        telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=f"0.0.0.0:{port}"))
    )


async def run(settings: WorkerSettings) -> None:
    client = await connect_temporal(settings, metrics_runtime(settings.metrics_port))
    deals_channel = channel(settings.deals_addr)
    notifications_channel = channel(settings.notifications_addr)
    approvals_channel = channel(settings.approvals_addr)
    finance_channel = channel(settings.finance_addr)
    activities = ServiceActivities(
        deals_pb2_grpc.DealsServiceStub(deals_channel),
        notifications_pb2_grpc.NotificationsServiceStub(notifications_channel),
    )
    approval_activities = ApprovalActivities(
        approvals_pb2_grpc.ApprovalsServiceStub(approvals_channel),
        deals_pb2_grpc.DealsServiceStub(deals_channel),
        files_pb2_grpc.FilesServiceStub(deals_channel),
    )
    finance_stub = finance_pb2_grpc.FinanceServiceStub(finance_channel)
    finance_activities = FinanceActivities(finance_stub)
    invoice_activities = InvoiceActivities(finance_stub)
    run_ends = RunEnds()
    automation_activities = AutomationActivities(
        automation_pb2_grpc.AutomationServiceStub(deals_channel),
        deals_pb2_grpc.DealsServiceStub(deals_channel),
        notifications_pb2_grpc.NotificationsServiceStub(notifications_channel),
        task_queue=settings.task_queue,
        crm=crm_pb2_grpc.CrmServiceStub(deals_channel),
        temporal=client,
        ends=run_ends,
    )
    product_activities = ProductActivities(products_pb2_grpc.ProductsServiceStub(deals_channel))
    lead_activities = LeadActivities(
        crm_pb2_grpc.CrmServiceStub(deals_channel), deals_pb2_grpc.DealsServiceStub(deals_channel)
    )
    reminder_activities = ReminderActivities(
        activities_pb2_grpc.ActivitiesServiceStub(deals_channel),
        notifications_pb2_grpc.NotificationsServiceStub(notifications_channel),
        digest_at=settings.alerts_digest_at,
        stale_days=settings.alerts_stale_days,
        grace_hours=settings.alerts_grace_hours,
    )
    worker = Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[*WORKFLOWS, AutomationRun, ReminderPlanWorkflow, LeadershipAlerts],
        workflow_runner=workflow_runner(settings),
        activities=[
            *activities.all(),
            *approval_activities.all(),
            *finance_activities.all(),
            *invoice_activities.all(),
            *automation_activities.all(),
            *product_activities.all(),
            *lead_activities.all(),
            *reminder_activities.all(),
        ],
        max_concurrent_activities=settings.max_concurrent_activities,
        graceful_shutdown_timeout=timedelta(seconds=settings.shutdown_grace_seconds),
    )

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    log.info(
        "worker started",
        extra={"task_queue": settings.task_queue, "temporal": settings.temporal_address},
    )
    running = asyncio.create_task(worker.run())
    starting = asyncio.create_task(
        keep_alerts_started(client, settings.task_queue) if settings.alerts else asyncio.sleep(0)
    )
    deals_stub = deals_pb2_grpc.DealsServiceStub(deals_channel)
    automation_stub = automation_pb2_grpc.AutomationServiceStub(deals_channel)
    factories: list[Factory] = [
        lambda js: SpendStarts(
            js=js, temporal=client, deals=deals_stub, task_queue=settings.task_queue
        ),
        lambda js: FieldChanges(js=js, temporal=client),
        lambda js: InvoiceChanges(js=js, temporal=client),
        lambda js: ReminderStarts(js=js, temporal=client, task_queue=settings.task_queue),
    ]

    def triggers(records: str) -> Factory:
        return lambda js: Triggers(
            js=js,
            temporal=client,
            deals=deals_stub,
            automation=automation_stub,
            task_queue=settings.task_queue,
            records=records,
            actions=automation_activities if settings.inline_rule_runs else None,
            ends=run_ends,
            run_wait=settings.rule_run_wait_seconds,
        )

    if settings.triggers:
        factories += [triggers("deal"), triggers("lead")]  # deal events, lead events
    consumers = asyncio.create_task(
        run_consumers(
            nats_url=settings.nats_url, name="worker-consumers", consumers=factories, stop=stop
        )
    )
    waiting = asyncio.create_task(stop.wait())
    await asyncio.wait({running, waiting}, return_when=asyncio.FIRST_COMPLETED)
    stop.set()
    await stop_consumers(consumers, settings.shutdown_grace_seconds)
    if not running.done():
        log.info("stopping worker")
        await worker.shutdown()
    for task in (waiting, starting):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await running  # re-raises if the worker died on its own
    await deals_channel.close()
    await notifications_channel.close()
    await approvals_channel.close()
    await finance_channel.close()
    log.info("worker stopped")


async def stop_consumers(task: asyncio.Task[None], grace: float) -> None:
    """Let the consumer finish its batch (acks included); cancel it if NATS never came."""
    done, _ = await asyncio.wait({task}, timeout=grace)
    if not done:
        task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    except Exception:  # the workflows still stop cleanly
        log.exception("triggers stopped with an error")


def main() -> None:
    settings = WorkerSettings()
    configure_logging(settings.log_level, settings.log_format)
    if setup_tracing("worker"):
        instrument_grpc_client()
    asyncio.run(run(settings))
    # Everything has stopped (activities finished, consumers drained, channels closed).
    # The SDK's native threads may still be winding down, and interpreter finalization
    # while one calls back aborts the process (`PyGILState_Release`): leave without it.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
