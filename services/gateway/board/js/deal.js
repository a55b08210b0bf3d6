// A deal's card: fields, line items, contacts, chat, processes (stage, open tasks, the
// workflow in the Temporal UI) with a form to start one, the deal's open tasks, its folder
// and timeline. The card follows live events of its deal: a move, a change, a message.
import { ApiError, all, get, patch, post } from "./api.js";
import { chatSection, folderSection } from "./chat.js";
import { field, h, problems, when } from "./dom.js";
import { answerForm } from "./forms.js";
import { itemsSection } from "./items.js";
import { dealOf, follow } from "./live.js";

let config = null;
const boardConfig = async () => (config ??= await (await fetch("config.json")).json());

export async function showDeal(main, dealId) {
  const deal = await get(`/deals/${dealId}`);
  const pipeline = await get(`/pipelines/${deal.pipeline_id}`);
  const stage = pipeline.stages.find((s) => s.id === deal.stage_id);
  const [timeline, folder, items, chat, processes, tasks, catalog, cfg] = await Promise.all([
    get(`/deals/${dealId}/timeline`),
    folderSection(dealId),
    itemsSection(dealId),
    chatSection(dealId),
    get(`/deals/${dealId}/processes`),
    all(`/tasks?deal_id=${dealId}&status=open`),
    get("/processes"),
    boardConfig(),
  ]);
  const names = Object.fromEntries(pipeline.fields.map((f) => [f.code, f.name]));
  const fields = Object.entries(deal.fields).filter(([, v]) => v !== null && v !== "");
  const summary = h("p", { class: "meta", "aria-live": "polite", dataset: { stageId: deal.stage_id } },
    `Stage: ${stage ? stage.name : deal.stage_id}`, deal.amount ? ` · ${deal.amount} ${deal.currency || ""}` : "");
  const events = h("ol", { "aria-label": "Timeline" }, timelineItems(timeline));
  follow(async (type, envelope) => {
    if (type === "reset") return showDeal(main, dealId);
    if (dealOf(envelope) !== Number(dealId)) return;
    if (type === "notifications.chat.message_posted") return chat.reload();
    if (!type.startsWith("deals.deal.")) return;
    if (type === "deals.deal.items_changed") items.reload();
    const now = await get(`/deals/${dealId}`);
    const at = pipeline.stages.find((s) => s.id === now.stage_id);
    summary.dataset.stageId = now.stage_id;
    summary.textContent = `Stage: ${at ? at.name : now.stage_id}${now.amount ? ` · ${now.amount} ${now.currency || ""}` : ""}`;
    events.replaceChildren(...timelineItems(await get(`/deals/${dealId}/timeline`)));
  });
  main.replaceChildren(
    h("p", {}, h("a", { href: `#/board/${deal.pipeline_id}` }, `← ${pipeline.name}`)),
    h("h1", {}, deal.title),
    summary,
    section("Fields", fields.length
      ? h("dl", { class: "fields" }, fields.flatMap(([k, v]) => [h("dt", {}, names[k] || k), h("dd", {}, Array.isArray(v) ? v.join(", ") : String(v))]))
      : h("p", {}, "No fields filled yet."), fieldsForm(deal, pipeline, () => showDeal(main, dealId))),
    section("Line items", items),
    section("Contacts", parties(deal.parties)),
    section("Chat", chat),
    section("Processes", await processList(deal, processes, tasks, cfg), startForm(deal, catalog)),
    section("Open tasks", await taskForms(tasks, () => showDeal(main, dealId))),
    section("Files", folder),
    section("Timeline", events),
  );
}

const timelineItems = (timeline) => timeline.items.map((e) =>
  h("li", {}, h("span", { class: "meta" }, `${when(e.created_at || e.at)} `), e.text || e.kind));

const INPUT_TYPES = { number: "number", money: "text", date: "date", datetime: "datetime-local" };

// The deal's editable fields (not computed ones, not files: those come with uploads).
function fieldsForm(deal, pipeline, refresh) {
  const editable = pipeline.fields.filter((f) => !f.formula && !["file", "user", "list_item"].includes(f.type));
  if (!editable.length) return null;
  const controls = editable.map((f) => {
    const current = deal.fields[f.code];
    let el;
    if (f.type === "enum") {
      el = h("select", { name: f.code }, h("option", { value: "" }, "—"),
        f.options.map((o) => h("option", { value: o, selected: current === o }, o)));
    } else if (f.type === "bool") {
      el = h("input", { name: f.code, type: "checkbox", checked: current === true });
    } else if (f.type === "text") {
      el = h("textarea", { name: f.code, rows: 2 });
      el.value = current ?? "";
    } else {
      el = h("input", { name: f.code, type: INPUT_TYPES[f.type] || "text", step: f.type === "number" ? "any" : undefined });
      el.value = current ?? "";
    }
    return [f, el];
  });
  const error = h("div");
  const form = h("form", { class: "form", "aria-label": "Edit fields" },
    h("details", {}, h("summary", {}, "Edit fields"),
      controls.map(([f, el]) => field(f.name, el)), error,
      h("p", {}, h("button", { type: "submit" }, "Save fields"))));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const fields = {};
    for (const [f, el] of controls) {
      const value = f.type === "bool" ? el.checked : f.type === "number" && el.value !== "" ? Number(el.value) : el.value;
      if (value === "" && (deal.fields[f.code] ?? "") === "") continue;
      fields[f.code] = value === "" ? null : value;
    }
    try {
      await patch(`/deals/${deal.id}`, { fields }, deal.version);
      refresh();
    } catch (exc) {
      if (!(exc instanceof ApiError)) throw exc;
      error.replaceChildren(problems(exc));
    }
  });
  return form;
}

function section(title, ...content) {
  return h("section", { "aria-label": title }, h("h2", {}, title), ...content);
}

function parties(p) {
  if (!p) return h("p", {}, "None.");
  const items = [];
  if (p.company) items.push(h("li", {}, `Company: ${p.company.name}`));
  for (const c of p.contacts || []) items.push(h("li", {}, `${c.name}${c.emails?.length ? ` · ${c.emails.join(", ")}` : ""}`));
  if (p.lead_id) items.push(h("li", {}, `From lead ${p.lead_id}`));
  return items.length ? h("ul", {}, items) : h("p", {}, "None.");
}

async function processList(deal, runs, tasks, cfg) {
  if (!runs.length) return h("p", {}, "No process has run yet.");
  const titles = Object.fromEntries(tasks.map((t) => [String(t.id), t.title]));
  const items = [];
  for (const run of runs) {
    const ui = `${cfg.temporal_ui}/namespaces/${cfg.namespace}/workflows/${encodeURIComponent(run.id)}`;
    let open = [];
    if (run.status === "running") {
      const detail = await get(`/deals/${deal.id}/processes/${run.id}`);
      open = (detail.state.open_task_ids || []).map((id) => titles[String(id)] || `task ${id}`);
    }
    items.push(h(
      "li",
      { dataset: { workflowId: run.id } },
      h("strong", {}, run.process), ` · ${run.status}`, run.stage ? ` · stage: ${run.stage}` : "",
      open.length ? h("div", { class: "meta" }, `open tasks: ${open.join(", ")}`) : null,
      h("div", {}, h("a", { href: ui, target: "_blank", rel: "noopener" }, `${run.id} in the Temporal UI`)),
    ));
  }
  return h("ul", { class: "plain", "aria-label": "Processes" }, items);
}

function startForm(deal, catalog) {
  const kinds = catalog;
  const picker = h("select", { name: "process" }, kinds.map((k) => h("option", { value: k.name }, k.name)));
  const params = h("div");
  const error = h("div");
  const renderParams = () => {
    const kind = kinds.find((k) => k.name === picker.value);
    params.replaceChildren(...(kind ? kind.params : []).map((p) =>
      field(`${p.name}${p.required ? " (required)" : ""}`, h("input", {
        name: p.name, type: p.type === "date" ? "date" : "text", "aria-description": p.help, dataset: { param: p.name },
      }))));
  };
  picker.addEventListener("change", renderParams);
  renderParams();
  const form = h("form", { class: "form", "aria-label": "Process to start" },
    field("Start a process", picker), params, error,
    h("p", {}, h("button", { type: "submit" }, "Start")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const values = {};
    for (const input of params.querySelectorAll("input")) if (input.value) values[input.dataset.param] = input.value;
    try {
      await post(`/deals/${deal.id}/processes`, { process: picker.value, params: values });
      location.reload();
    } catch (exc) {
      if (!(exc instanceof ApiError)) throw exc;
      error.replaceChildren(problems(exc));
    }
  });
  return form;
}

async function taskForms(tasks, refresh) {
  if (!tasks.length) return h("p", {}, "No open task.");
  const list = h("ul", { class: "plain" });
  for (const task of tasks) list.append(h("li", {}, await answerForm(task, refresh)));
  return list;
}
