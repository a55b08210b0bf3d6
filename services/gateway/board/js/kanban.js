// A kanban per pipeline: a column per stage, cards dragged between columns (or moved with
// the card's own stage picker, for the keyboard); a refused move shows the 422's fields.
// The board follows live events: a deal moved, made or changed by anyone shows at once.
import { ApiError, all, get, post } from "./api.js";
import { announce, field, h, problems } from "./dom.js";
import { dealOf, follow } from "./live.js";

export async function showBoard(main, pipelineId) {
  const pipelines = (await get("/pipelines")).filter((p) => p.kind !== "lead");
  if (!pipelines.length) {
    main.replaceChildren(h("h1", {}, "Board"), h("p", {}, "No pipelines yet: apply a blueprint."));
    return;
  }
  const pipeline = pipelines.find((p) => String(p.id) === pipelineId) || pipelines[0];
  const picker = h(
    "select",
    { onchange: (e) => e.target.value !== String(pipeline.id) && (location.hash = `#/board/${e.target.value}`) },
    pipelines.map((p) => h("option", { value: p.id, selected: p.id === pipeline.id }, p.name)),
  );
  const deals = await all(`/deals?pipeline_id=${pipeline.id}&limit=200`);
  const board = h("div", { class: "kanban" });
  for (const stage of pipeline.stages) {
    board.append(column(pipeline, stage, deals.filter((d) => d.stage_id === stage.id)));
  }
  follow((type, envelope) => {
    if (type === "reset") showBoard(main, String(pipeline.id));
    else if (type.startsWith("deals.deal.")) place(pipeline, board, dealOf(envelope), envelope.data?.deal);
  });
  main.replaceChildren(
    h("h1", {}, pipeline.name),
    field("Pipeline", picker),
    h("p", {}, h("a", { href: `#/reports/funnel/${pipeline.id}` }, `Funnel report of ${pipeline.name}`)),
    newDealForm(pipeline),
    board,
  );
}

function column(pipeline, stage, deals) {
  const titleId = `stage-${stage.id}`;
  const list = h("ul", { class: "cards" }, deals.map((d) => card(pipeline, d)));
  const section = h(
    "section",
    { class: "column", "aria-labelledby": titleId, dataset: { stageId: stage.id } },
    h("h2", { id: titleId }, `${stage.name} `, h("span", { class: "meta" }, `(${deals.length})`)),
    list,
  );
  section.addEventListener("dragover", (e) => {
    e.preventDefault();
    section.classList.add("over");
  });
  section.addEventListener("dragleave", () => section.classList.remove("over"));
  section.addEventListener("drop", (e) => {
    e.preventDefault();
    section.classList.remove("over");
    const dealId = e.dataTransfer.getData("text/plain");
    const el = document.querySelector(`[data-deal-id="${dealId}"]`);
    if (el) move(pipeline, el, stage.id);
  });
  return section;
}

// A deal as an event leaves it (`data.deal`: id, title, pipeline_id, stage_id): its card
// moved to its stage's column, made when it is new here, dropped when it left the pipeline.
function place(pipeline, board, dealId, summary) {
  if (!dealId || !summary) return;
  let el = board.querySelector(`[data-deal-id="${dealId}"]`);
  const target = board.querySelector(`.column[data-stage-id="${summary.stage_id}"] .cards`);
  if (String(summary.pipeline_id) !== String(pipeline.id) || !target) {
    if (el) el.remove();
  } else {
    if (!el) el = card(pipeline, { id: dealId, title: summary.title, stage_id: Number(summary.stage_id) });
    el.querySelector("a").textContent = summary.title;
    el.querySelector("select").value = String(summary.stage_id);
    if (el.parentElement !== target) target.append(el);
  }
  recount(board);
}

function recount(board) {
  for (const column of board.querySelectorAll(".column")) {
    column.querySelector("h2 .meta").textContent = `(${column.querySelectorAll(".card").length})`;
  }
}

function card(pipeline, deal) {
  const stages = pipeline.stages.map((s) =>
    h("option", { value: s.id, selected: s.id === deal.stage_id }, s.name),
  );
  const picker = h("select", { "aria-label": `Stage of ${deal.title}` }, stages);
  const el = h(
    "li",
    { class: "card", draggable: "true", dataset: { dealId: deal.id }, "aria-label": deal.title },
    h("a", { href: `#/deals/${deal.id}` }, deal.title),
    deal.amount ? h("div", { class: "meta" }, `${deal.amount} ${deal.currency || ""}`) : null,
    h(
      "div",
      { class: "move" },
      picker,
      h("button", { type: "button", class: "secondary", onclick: () => move(pipeline, el, Number(picker.value)) }, "Move"),
    ),
    h("div", { class: "card-problems" }),
  );
  el.addEventListener("dragstart", (e) => e.dataTransfer.setData("text/plain", String(deal.id)));
  return el;
}

async function move(pipeline, el, stageId) {
  const out = el.querySelector(".card-problems");
  out.replaceChildren();
  try {
    await post(`/deals/${el.dataset.dealId}/move`, { stage_id: stageId });
  } catch (exc) {
    if (!(exc instanceof ApiError)) throw exc;
    const labels = Object.fromEntries(pipeline.fields.map((f) => [`fields.${f.code}`, f.name]));
    out.replaceChildren(problems(exc, labels));
    announce(`Not moved: ${exc.errors.map((e) => e.field).join(", ") || exc.message}`);
    return;
  }
  const target = document.querySelector(`.column[data-stage-id="${stageId}"] .cards`);
  target.append(el);
  el.querySelector("select").value = String(stageId);
  recount(target.closest(".kanban"));
  const stage = pipeline.stages.find((s) => s.id === stageId);
  announce(`Moved to ${stage ? stage.name : stageId}`);
}

function newDealForm(pipeline) {
  const title = h("input", { name: "title", required: true });
  const error = h("div");
  const form = h(
    "form",
    { class: "form", "aria-label": "Create a deal" },
    field("Title of a new deal", title),
    error,
    h("p", {}, h("button", { type: "submit" }, "Create deal")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const deal = await post("/deals", { pipeline_id: pipeline.id, title: title.value.trim() });
      location.hash = `#/deals/${deal.id}`;
    } catch (exc) {
      error.replaceChildren(problems(exc));
    }
  });
  return form;
}
