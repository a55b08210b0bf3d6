"""Contacts, companies, leads, conversion, exclusions and mail intake through gRPC over real
PostgreSQL: duplicates, merges, visibility, the spam stage and the events in the outbox."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import grpc
import pytest
import sqlalchemy as sa
from dealflow.deals.v1 import crm_pb2 as cpb
from dealflow.deals.v1 import crm_pb2_grpc, files_pb2, files_pb2_grpc
from dealflow.deals.v1 import deals_pb2 as pb
from dealflow.deals.v1 import deals_pb2_grpc as pb_grpc
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.errors import AlreadyExists, Conflict, NotFound, ValidationFailed
from services.common.grpc_client import call, channel
from services.common.protoconv import from_struct, to_struct
from services.deals.main import start_server
from services.deals.service import DealsService
from services.deals.tables import outbox
from tests.integration.deals.conftest import while_moved

pytestmark = pytest.mark.integration

Crm = crm_pb2_grpc.CrmServiceStub


@pytest.fixture(scope="module")
async def deals_channel(service: DealsService) -> AsyncIterator[grpc.aio.Channel]:
    server, port = await start_server(service)
    chan: grpc.aio.Channel = channel(f"127.0.0.1:{port}")
    yield chan
    await chan.close()
    await server.stop(None)


@pytest.fixture(scope="module")
def crm(deals_channel: grpc.aio.Channel) -> Crm:
    return crm_pb2_grpc.CrmServiceStub(deals_channel)


@pytest.fixture(scope="module")
def files(deals_channel: grpc.aio.Channel) -> files_pb2_grpc.FilesServiceStub:
    return files_pb2_grpc.FilesServiceStub(deals_channel)


async def funnel(stub: pb_grpc.DealsServiceStub, actor: str) -> pb.Pipeline:
    request = pb.CreatePipelineRequest(
        name=f"Leads {uuid.uuid4().hex[:6]}",
        kind="lead",
        stages=[
            pb.StageInput(name="Collect"),
            pb.StageInput(name="Discuss"),
            pb.StageInput(name="Converted", semantic="won"),
            pb.StageInput(name="Other", semantic="lost"),
            pb.StageInput(name="Spam", semantic="spam"),
        ],
    )
    created = await call(stub.CreatePipeline, request, actor=actor)
    field = pb.CreateFieldRequest(
        pipeline_id=created.id,
        code="budget",
        name="Budget",
        type="number",
        required_on_stages=[created.stages[1].id],
    )
    await call(stub.CreateField, field, actor=actor)
    return await call(stub.GetPipeline, pb.GetPipelineRequest(id=created.id))


async def deal_pipeline(stub: pb_grpc.DealsServiceStub, actor: str) -> pb.Pipeline:
    request = pb.CreatePipelineRequest(
        name=f"Sales {uuid.uuid4().hex[:6]}",
        stages=[pb.StageInput(name="New"), pb.StageInput(name="Won", semantic="won")],
    )
    created = await call(stub.CreatePipeline, request, actor=actor)
    await call(
        stub.CreateField,
        pb.CreateFieldRequest(pipeline_id=created.id, code="budget", name="Budget", type="number"),
        actor=actor,
    )
    return created


async def test_contacts_are_normalised_searched_deduplicated_and_merged(
    crm: Crm, stub: pb_grpc.DealsServiceStub, admin: pb.User, engine: AsyncEngine
) -> None:
    company = await call(
        crm.CreateCompany,
        cpb.CreateCompanyRequest(name="Acme", registration_ids={"inn": "7707083893"}),
        actor=admin.id,
    )
    anna = await call(
        crm.CreateContact,
        cpb.CreateContactRequest(
            name="Anna",
            emails=[" Anna@Example.COM "],
            phones=["8 (912) 345-67-89"],
            company_id=company.id,
        ),
        actor=admin.id,
    )
    assert (list(anna.emails), list(anna.phones)) == (["anna@example.com"], ["+79123456789"])

    for q in ("ANNA@example.com", "+7 912 345 67 89", "89123456789", "ann"):
        found = await call(crm.ListContacts, cpb.ListContactsRequest(q=q), actor=admin.id)
        assert [c.id for c in found.contacts] == [anna.id], q
    by_inn = await call(crm.ListCompanies, cpb.ListCompaniesRequest(q="7707083893"), actor=admin.id)
    assert [c.id for c in by_inn.companies] == [company.id]

    again = cpb.CreateContactRequest(name="Anna K", phones=["+79123456789"])
    with pytest.raises(AlreadyExists) as refused:
        await call(crm.CreateContact, again, actor=admin.id)
    assert ("existing_id", anna.id) in [(p.field, p.message) for p in refused.value.problems]
    again.allow_duplicate = True
    twin = await call(crm.CreateContact, again, actor=admin.id)

    leads = await funnel(stub, admin.id)
    lead = await call(
        crm.CreateLead,
        cpb.CreateLeadRequest(pipeline_id=leads.id, title="Pens", contact_id=twin.id),
        actor=admin.id,
    )
    sales = await deal_pipeline(stub, admin.id)
    deals = [
        await call(
            stub.CreateDeal, pb.CreateDealRequest(pipeline_id=sales.id, title=t), actor=admin.id
        )
        for t in ("both", "twin only")
    ]
    await call(
        crm.LinkDealParties,
        cpb.LinkDealPartiesRequest(deal_id=deals[0].id, contact_ids=[anna.id, twin.id]),
        actor=admin.id,
    )
    await call(
        crm.LinkDealParties,
        cpb.LinkDealPartiesRequest(deal_id=deals[1].id, contact_ids=[twin.id]),
        actor=admin.id,
    )
    kept = await call(
        crm.MergeContacts,
        cpb.MergeContactsRequest(keep_id=anna.id, merge_id=twin.id),
        actor=admin.id,
    )
    assert list(kept.phones) == ["+79123456789"] and kept.company_id == company.id
    moved = await call(crm.GetLead, cpb.GetLeadRequest(id=lead.id), actor=admin.id)
    assert moved.contact_id == anna.id
    for deal in deals:  # every link kept, none twice
        parties = await call(
            crm.GetDealParties, cpb.GetDealPartiesRequest(deal_id=deal.id), actor=admin.id
        )
        assert list(parties.contact_ids) == [anna.id]
    gone = await call(crm.GetContact, cpb.GetContactRequest(id=twin.id), actor=admin.id)
    assert gone.merged_into_id == anna.id
    listed = await call(crm.ListContacts, cpb.ListContactsRequest(q="anna"), actor=admin.id)
    assert [c.id for c in listed.contacts] == [anna.id]  # a merged contact is not listed
    async with engine.connect() as conn:
        types = (await conn.execute(sa.select(outbox.c.type))).scalars().all()
    assert {"deals.contact.created", "deals.contact.merged", "deals.company.created"} <= set(types)


async def test_a_lead_moves_with_its_fields_converts_and_spam_excludes(
    crm: Crm, stub: pb_grpc.DealsServiceStub, admin: pb.User, engine: AsyncEngine
) -> None:
    leads = await funnel(stub, admin.id)
    collect, discuss, _, _, spam = leads.stages
    sales = await deal_pipeline(stub, admin.id)
    with pytest.raises(ValidationFailed):  # a deal cannot live in a lead funnel
        await call(
            stub.CreateDeal, pb.CreateDealRequest(pipeline_id=leads.id, title="x"), actor=admin.id
        )
    contact = await call(
        crm.CreateContact,
        cpb.CreateContactRequest(
            name="Boris", emails=["boris@spam.example"], phones=["+7 900 000 00 01"]
        ),
        actor=admin.id,
    )
    lead = await call(
        crm.CreateLead,
        cpb.CreateLeadRequest(
            pipeline_id=leads.id, title="Mugs", contact_id=contact.id, source="site"
        ),
        actor=admin.id,
    )
    assert (lead.stage_id, lead.stage_semantic) == (collect.id, "in_progress")
    move = cpb.MoveLeadRequest(id=lead.id, stage_id=discuss.id)
    with pytest.raises(ValidationFailed) as refused:
        await call(crm.MoveLead, move, actor=admin.id)
    assert [p.field for p in refused.value.problems] == ["fields.budget"]
    await call(
        crm.UpdateLead,
        cpb.UpdateLeadRequest(id=lead.id, fields=to_struct({"budget": 1200})),
        actor=admin.id,
    )
    await call(crm.MoveLead, move, actor=admin.id)

    converted = await call(
        crm.ConvertLead, cpb.ConvertLeadRequest(id=lead.id, pipeline_id=sales.id), actor=admin.id
    )
    assert converted.lead.deal_id == converted.deal_id and converted.lead.stage_semantic == "won"
    deal = await call(stub.GetDeal, pb.GetDealRequest(id=converted.deal_id), actor=admin.id)
    assert (deal.title, deal.contact_name, from_struct(deal.fields)) == (
        "Mugs",
        "Boris",
        {"budget": 1200},
    )
    links = await call(
        crm.GetDealParties, cpb.GetDealPartiesRequest(deal_id=deal.id), actor=admin.id
    )
    assert (list(links.contact_ids), links.lead_id) == ([contact.id], lead.id)
    with pytest.raises(Conflict):
        await call(crm.ConvertLead, cpb.ConvertLeadRequest(id=lead.id), actor=admin.id)
    timeline = await call(
        crm.GetLeadTimeline, cpb.GetLeadTimelineRequest(lead_id=lead.id), actor=admin.id
    )
    assert [e.kind for e in timeline.entries][:2] == ["converted", "stage_changed"]

    spammer = await call(
        crm.CreateLead,
        cpb.CreateLeadRequest(pipeline_id=leads.id, title="Buy pills", contact_id=contact.id),
        actor=admin.id,
    )
    await call(crm.MoveLead, cpb.MoveLeadRequest(id=spammer.id, stage_id=spam.id), actor=admin.id)
    listed = await call(crm.ListExclusions, cpb.ListExclusionsRequest(), actor=admin.id)
    assert {(e.kind, e.value) for e in listed.exclusions} >= {
        ("email", "boris@spam.example"),
        ("phone", "+79000000001"),
    }
    async with engine.connect() as conn:
        types = (await conn.execute(sa.select(outbox.c.type))).scalars().all()
    assert {"deals.lead.created", "deals.lead.stage_changed", "deals.lead.converted"} <= set(types)
    assert "deals.exclusion.added" in types


async def test_a_change_waiting_on_a_concurrent_move_sees_the_moved_lead(
    crm: Crm, stub: pb_grpc.DealsServiceStub, admin: pb.User, engine: AsyncEngine
) -> None:
    leads = await funnel(stub, admin.id)
    spam = leads.stages[4]
    create = cpb.CreateLeadRequest(pipeline_id=leads.id, title="Racing")
    lead = await call(crm.CreateLead, create, actor=admin.id)
    change = cpb.UpdateLeadRequest(
        id=lead.id, expected_version=lead.version + 1, set_fields=["title"], title="Raced"
    )
    changed = await while_moved(
        engine, "leads", lead.id, spam.id, call(crm.UpdateLead, change, actor=admin.id)
    )
    assert (changed.title, changed.stage_id, changed.stage_semantic) == ("Raced", spam.id, "spam")


async def test_mail_makes_a_lead_threads_replies_and_drops_excluded_senders(
    crm: Crm,
    stub: pb_grpc.DealsServiceStub,
    admin: pb.User,
    files: files_pb2_grpc.FilesServiceStub,
) -> None:
    leads = await funnel(stub, admin.id)
    await call(crm.PutIntakeSettings, cpb.IntakeSettings(pipeline_id=leads.id), actor=admin.id)
    sender = f"new-{uuid.uuid4().hex[:6]}@client.example"
    first = cpb.IngestEmailRequest(
        message_id=f"<{uuid.uuid4()}@client.example>",
        sender=sender,
        sender_name="Vera",
        subject="Need 500 pens",
        text="Hello",
        size=100,
    )
    made = await call(crm.IngestEmail, first)
    assert made.outcome == "lead_created" and made.lead_id and not made.duplicate
    repeat = await call(crm.IngestEmail, first)
    assert (repeat.duplicate, repeat.lead_id) == (True, made.lead_id)

    reply = cpb.IngestEmailRequest(
        message_id=f"<{uuid.uuid4()}@other.example>",
        sender="someone@other.example",
        subject="Re: Need 500 pens",
        text="and 200 mugs",
        in_reply_to=[first.message_id],
        size=50,
    )
    threaded = await call(crm.IngestEmail, reply)
    assert (threaded.outcome, threaded.lead_id) == ("attached_to_lead", made.lead_id)
    entries = await call(crm.GetLeadTimeline, cpb.GetLeadTimelineRequest(lead_id=made.lead_id))
    assert [e.kind for e in entries.entries].count("email") == 2

    await call(
        crm.CreateExclusion,
        cpb.CreateExclusionRequest(kind="domain", value="@Spam.example"),
        actor=admin.id,
    )
    dropped = await call(
        crm.IngestEmail,
        cpb.IngestEmailRequest(
            message_id="<x1@spam.example>", sender="bot@spam.example", subject="win"
        ),
    )
    assert (
        dropped.outcome == "excluded"
        and not dropped.lead_id
        and "domain spam.example" in dropped.reason
    )
    with pytest.raises(ValidationFailed):
        await call(crm.IngestEmail, cpb.IngestEmailRequest(message_id="<x2@a>", sender="not mail"))

    # An attachment is a file of the lead, seen by whoever sees the lead.
    with_file = cpb.IngestEmailRequest(
        message_id=f"<{uuid.uuid4()}@client.example>",
        sender=sender,
        subject="the spec",
        attachments=[
            cpb.MailAttachment(
                name="spec.pdf",
                content_type="application/pdf",
                size=3,
                sha256="a" * 64,
                storage_key=f"k-{uuid.uuid4().hex}",
            )
        ],
    )
    attached = await call(crm.IngestEmail, with_file)
    (file_id,) = attached.file_ids
    found = await call(files.GetFile, files_pb2.GetFileRequest(id=file_id), actor=admin.id)
    assert (found.lead_id, found.deal_id, found.name) == (made.lead_id, "", "spec.pdf")
    stranger = await call(
        stub.CreateUser,
        pb.CreateUserRequest(
            email=f"s-{uuid.uuid4().hex[:6]}@example.com",
            name="S",
            password="pw-123456",
            roles=["manager"],
        ),
        actor=admin.id,
    )
    with pytest.raises(NotFound):
        await call(files.GetFile, files_pb2.GetFileRequest(id=file_id), actor=stranger.id)
    listed = await call(crm.ListIntake, cpb.ListIntakeRequest(), actor=admin.id)
    assert [m.outcome for m in listed.messages][:4] == [
        "attached_to_lead",
        "excluded",
        "attached_to_lead",
        "lead_created",
    ]


async def test_someone_else_s_leads_and_contacts_are_not_found(
    crm: Crm, stub: pb_grpc.DealsServiceStub, admin: pb.User
) -> None:
    manager = await call(
        stub.CreateUser,
        pb.CreateUserRequest(
            email=f"m-{uuid.uuid4().hex[:6]}@example.com",
            name="M",
            password="pw-123456",
            roles=["manager"],
        ),
        actor=admin.id,
    )
    leads = await funnel(stub, admin.id)
    contact = await call(crm.CreateContact, cpb.CreateContactRequest(name="Secret"), actor=admin.id)
    lead = await call(
        crm.CreateLead, cpb.CreateLeadRequest(pipeline_id=leads.id, title="Secret"), actor=admin.id
    )
    with pytest.raises(NotFound):
        await call(crm.GetContact, cpb.GetContactRequest(id=contact.id), actor=manager.id)
    with pytest.raises(NotFound):
        await call(crm.GetLead, cpb.GetLeadRequest(id=lead.id), actor=manager.id)
    mine = await call(crm.ListLeads, cpb.ListLeadsRequest(pipeline_id=leads.id), actor=manager.id)
    assert list(mine.leads) == []


async def test_captured_requests_join_the_contact_s_open_lead(
    crm: Crm, stub: pb_grpc.DealsServiceStub, admin: pb.User
) -> None:
    leads = await funnel(stub, admin.id)
    form = cpb.CaptureLeadRequest(
        pipeline_id=leads.id,
        name="Oleg",
        email=f"oleg-{uuid.uuid4().hex[:6]}@x.example",
        phone="8 916 000-11-22",
        message="Need a booth",
    )
    first = await call(crm.CaptureLead, form, actor=admin.id)
    assert not first.duplicate and first.lead.source == "web form"
    assert first.lead.title == "Request from Oleg"
    again = await call(crm.CaptureLead, form, actor=admin.id)
    assert (again.duplicate, again.lead.id, again.contact_id) == (
        True,
        first.lead.id,
        first.contact_id,
    )
    entries = await call(crm.GetLeadTimeline, cpb.GetLeadTimelineRequest(lead_id=first.lead.id))
    assert [e.kind for e in entries.entries].count("capture") == 2

    await call(
        crm.CreateExclusion,
        cpb.CreateExclusionRequest(kind="phone", value="+7 916 000 11 23"),
        actor=admin.id,
    )
    spam = cpb.CaptureLeadRequest(pipeline_id=leads.id, name="Bot", phone="89160001123")
    dropped = await call(crm.CaptureLead, spam, actor=admin.id)
    assert dropped.excluded and not dropped.HasField("lead")
    with pytest.raises(ValidationFailed) as refused:
        await call(
            crm.CaptureLead, cpb.CaptureLeadRequest(pipeline_id=leads.id, name="X"), actor=admin.id
        )
    assert [p.field for p in refused.value.problems] == ["email"]


def rows(*lines: dict[str, str]) -> list[cpb.ImportRow]:
    return [cpb.ImportRow(number=i + 2, values=line) for i, line in enumerate(lines)]


async def test_csv_rows_import_after_a_dry_run_and_update_on_the_second_import(
    crm: Crm, stub: pb_grpc.DealsServiceStub, admin: pb.User
) -> None:
    tag = uuid.uuid4().hex[:6]
    mapping = {"ID": "external_id", "Name": "name", "E-mail": "emails", "Firm": "company"}
    good = {
        "ID": f"c1-{tag}",
        "Name": "Ira",
        "E-mail": f"ira-{tag}@x.example",
        "Firm": f"Firm {tag}",
    }
    bad = {"ID": f"c2-{tag}", "Name": "", "E-mail": "nope"}
    request = cpb.ImportRowsRequest(
        kind="contacts", mapping=mapping, rows=rows(good, bad), dry_run=True
    )
    report = await call(crm.ImportRows, request, actor=admin.id)
    assert [(p.field, p.message) for p in report.problems] == [
        ("rows[3].Name", "must be 1 to 200 characters"),
        ("rows[3].E-mail", "is not a valid email"),
    ]
    request.dry_run = False
    with pytest.raises(ValidationFailed):  # a bad row: nothing imported
        await call(crm.ImportRows, request, actor=admin.id)
    assert not (
        await call(
            crm.ListContacts, cpb.ListContactsRequest(q=f"ira-{tag}@x.example"), actor=admin.id
        )
    ).contacts

    del request.rows[1]
    first = await call(crm.ImportRows, request, actor=admin.id)
    assert (first.created, first.updated) == (1, 0)
    request.rows[0].values["Name"] = "Irina"
    second = await call(crm.ImportRows, request, actor=admin.id)
    assert (second.created, second.updated) == (0, 1)
    (irina,) = (
        await call(
            crm.ListContacts, cpb.ListContactsRequest(q=f"ira-{tag}@x.example"), actor=admin.id
        )
    ).contacts
    assert irina.name == "Irina" and irina.company_id
    company = await call(crm.GetCompany, cpb.GetCompanyRequest(id=irina.company_id), actor=admin.id)
    assert company.name == f"Firm {tag}"

    leads = await funnel(stub, admin.id)
    lead_rows = cpb.ImportRowsRequest(
        kind="leads",
        pipeline_id=leads.id,
        mapping={
            "Key": "external_id",
            "Subject": "title",
            "Stage": "stage",
            "Budget": "fields.budget",
            "Mail": "email",
        },
        rows=rows(
            {
                "Key": f"l1-{tag}",
                "Subject": "Stands",
                "Stage": "discuss",
                "Budget": "500",
                "Mail": f"ira-{tag}@x.example",
            },
            {"Key": f"l2-{tag}", "Subject": "Mugs", "Stage": "Nowhere", "Budget": "lots"},
        ),
        dry_run=True,
    )
    checked = await call(crm.ImportRows, lead_rows, actor=admin.id)
    assert sorted(p.field for p in checked.problems) == ["rows[3].Budget", "rows[3].Stage"]
    del lead_rows.rows[1]
    lead_rows.dry_run = False
    assert (await call(crm.ImportRows, lead_rows, actor=admin.id)).created == 1
    (lead,) = (
        await call(crm.ListLeads, cpb.ListLeadsRequest(pipeline_id=leads.id), actor=admin.id)
    ).leads
    assert (lead.stage_id, lead.contact_id, from_struct(lead.fields)) == (
        leads.stages[1].id,
        irina.id,
        {"budget": 500},
    )

    sales = await deal_pipeline(stub, admin.id)
    deal_rows = cpb.ImportRowsRequest(
        kind="deals",
        pipeline_id=sales.id,
        mapping={"Key": "external_id", "Deal": "title", "Sum": "amount", "Owner": "responsible"},
        rows=rows(
            {
                "Key": f"d1-{tag}",
                "Deal": "Old CRM deal",
                "Sum": "1200.50",
                "Owner": "root@example.com",
            }
        ),
    )
    assert (await call(crm.ImportRows, deal_rows, actor=admin.id)).created == 1
    deal_rows.rows[0].values["Sum"] = "1300"
    assert (await call(crm.ImportRows, deal_rows, actor=admin.id)).updated == 1
    listed = await call(stub.ListDeals, pb.ListDealsRequest(pipeline_id=sales.id), actor=admin.id)
    assert [(d.title, d.amount) for d in listed.deals] == [("Old CRM deal", "1300")]
    deal_rows.rows[0].values["Owner"] = "ghost@example.com"
    deal_rows.dry_run = True
    ghost = await call(crm.ImportRows, deal_rows, actor=admin.id)
    assert [p.field for p in ghost.problems] == ["rows[2].Owner"]


async def test_a_company_changes_only_what_is_named(crm: Crm, admin: pb.User) -> None:
    company = await call(
        crm.CreateCompany,
        cpb.CreateCompanyRequest(
            name="Gamma", registration_ids={"inn": "123"}, addresses=["Kazan"]
        ),
        actor=admin.id,
    )
    changed = await call(
        crm.UpdateCompany,
        cpb.UpdateCompanyRequest(
            id=company.id,
            expected_version=1,
            set_fields=["registration_ids"],
            registration_ids={"inn": "123", "ogrn": "456"},
            name="ignored",
        ),
        actor=admin.id,
    )
    assert (changed.name, dict(changed.registration_ids), changed.version) == (
        "Gamma",
        {"inn": "123", "ogrn": "456"},
        2,
    )
    with pytest.raises(Conflict):
        await call(
            crm.UpdateCompany,
            cpb.UpdateCompanyRequest(id=company.id, expected_version=1),
            actor=admin.id,
        )
    same = await call(crm.UpdateCompany, cpb.UpdateCompanyRequest(id=company.id), actor=admin.id)
    assert same.version == 2


async def test_mail_from_a_deal_s_contact_and_a_converted_thread_reach_the_deal(
    crm: Crm, stub: pb_grpc.DealsServiceStub, admin: pb.User
) -> None:
    leads = await funnel(stub, admin.id)
    sales = await deal_pipeline(stub, admin.id)
    await call(crm.PutIntakeSettings, cpb.IntakeSettings(pipeline_id=leads.id), actor=admin.id)
    client = f"buyer-{uuid.uuid4().hex[:6]}@corp.example"
    contact = await call(
        crm.CreateContact, cpb.CreateContactRequest(name="Buyer", emails=[client]), actor=admin.id
    )
    deal = await call(
        stub.CreateDeal, pb.CreateDealRequest(pipeline_id=sales.id, title="Order"), actor=admin.id
    )
    await call(
        crm.LinkDealParties,
        cpb.LinkDealPartiesRequest(deal_id=deal.id, contact_ids=[contact.id]),
        actor=admin.id,
    )
    mail = cpb.IngestEmailRequest(
        message_id=f"<{uuid.uuid4()}@corp>", sender=client, subject="Invoice?"
    )
    placed = await call(crm.IngestEmail, mail)
    assert (placed.outcome, placed.deal_id, placed.lead_id) == ("attached_to_deal", deal.id, "")
    timeline = await call(stub.GetTimeline, pb.GetTimelineRequest(deal_id=deal.id), actor=admin.id)
    assert timeline.entries[0].kind == "email" and "Invoice?" in timeline.entries[0].text

    newcomer = f"new-{uuid.uuid4().hex[:6]}@corp.example"
    first = cpb.IngestEmailRequest(
        message_id=f"<{uuid.uuid4()}@corp>", sender=newcomer, subject="Hi"
    )
    made = await call(crm.IngestEmail, first)
    converted = await call(
        crm.ConvertLead,
        cpb.ConvertLeadRequest(id=made.lead_id, pipeline_id=sales.id),
        actor=admin.id,
    )
    reply = cpb.IngestEmailRequest(
        message_id=f"<{uuid.uuid4()}@corp>",
        sender="cc@else.example",
        subject="Re: Hi",
        in_reply_to=[first.message_id],
    )
    threaded = await call(crm.IngestEmail, reply)
    assert (threaded.outcome, threaded.deal_id) == ("attached_to_deal", converted.deal_id)


async def test_contacts_and_companies_have_custom_fields_checked_like_deals(
    crm: Crm, admin: pb.User
) -> None:
    code = f"tier_{uuid.uuid4().hex[:4]}"
    made = await call(
        crm.CreateRecordField,
        cpb.CreateRecordFieldRequest(
            entity="contact", code=code, name="Tier", type="enum", options=["A", "B"]
        ),
        actor=admin.id,
    )
    assert (made.code, made.type, list(made.options)) == (code, "enum", ["A", "B"])
    with pytest.raises(ValidationFailed):  # the code is taken
        await call(
            crm.CreateRecordField,
            cpb.CreateRecordFieldRequest(entity="contact", code=code, name="x", type="string"),
            actor=admin.id,
        )
    listed = await call(
        crm.ListRecordFields, cpb.ListRecordFieldsRequest(entity="contact"), actor=admin.id
    )
    assert code in [f.code for f in listed.fields]

    with pytest.raises(ValidationFailed) as refused:
        await call(
            crm.CreateContact,
            cpb.CreateContactRequest(name="T", fields=to_struct({code: "C", "nope": 1})),
            actor=admin.id,
        )
    assert sorted(p.field for p in refused.value.problems) == sorted(
        [f"fields.{code}", "fields.nope"]
    )
    contact = await call(
        crm.CreateContact,
        cpb.CreateContactRequest(name="T", fields=to_struct({code: "A"})),
        actor=admin.id,
    )
    cleared = await call(
        crm.UpdateContact,
        cpb.UpdateContactRequest(id=contact.id, fields=to_struct({code: None})),
        actor=admin.id,
    )
    assert (from_struct(contact.fields), from_struct(cleared.fields)) == ({code: "A"}, {})
    with pytest.raises(ValidationFailed):  # companies have their own fields: none yet
        await call(
            crm.CreateCompany,
            cpb.CreateCompanyRequest(name="Z", fields=to_struct({code: "A"})),
            actor=admin.id,
        )
    checked = await call(
        crm.ImportRows,
        cpb.ImportRowsRequest(
            kind="contacts",
            mapping={"N": "name", "T": f"fields.{code}"},
            rows=rows({"N": "Ann", "T": "Z"}),
            dry_run=True,
        ),
        actor=admin.id,
    )
    assert [p.field for p in checked.problems] == ["rows[2].T"]
