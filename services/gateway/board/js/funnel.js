// The funnel report of a pipeline (GET /reports/funnel) and its drill-down: every count is
// a link to the deal list behind it (the count's `href`, a GET /deals query), each of whose
// rows opens the deal.
import { all, get } from "./api.js";
import { field, h } from "./dom.js";

const OUTCOMES = [
  ["entered", "Entered"],
  ["moved_on", "Moved on"],
  ["moved_back", "Moved back"],
  ["lost", "Lost"],
  ["moved_out", "Moved out"],
  ["still_there", "Still there"],
];

const day = (d) => d.toISOString().slice(0, 10);

// `href` of the API (/api/v1/deals?…) -> the board's drill-down page of it.
const drillDown = (href) => `#/reports/deals?${href.split("?")[1] || ""}`;

const percent = (ratio) => (ratio === null ? "—" : `${(Number(ratio) * 100).toFixed(1)} %`);

export async function showFunnel(main, pipelineId, query) {
  const pipelines = (await get("/pipelines")).filter((p) => p.kind !== "lead");
  if (!pipelines.length) {
    main.replaceChildren(h("h1", {}, "Funnel"), h("p", {}, "No pipelines yet: apply a blueprint."));
    return;
  }
  const pipeline = pipelines.find((p) => String(p.id) === pipelineId) || pipelines[0];
  const asked = new URLSearchParams(query);
  const today = new Date();
  const from = asked.get("from") || day(new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 1)));
  const to = asked.get("to") || day(today);
  const report = await get(`/reports/funnel?${new URLSearchParams({ pipeline_id: pipeline.id, from, to })}`);

  const picker = h("select", { name: "pipeline" }, pipelines.map((p) => h("option", { value: p.id, selected: p.id === pipeline.id }, p.name)));
  const fromInput = h("input", { type: "date", name: "from", value: from, required: true });
  const toInput = h("input", { type: "date", name: "to", value: to, required: true });
  const form = h("form", { class: "form", "aria-label": "Report period" },
    field("Pipeline", picker), field("From", fromInput), field("To (included)", toInput),
    h("p", {}, h("button", { type: "submit" }, "Show")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = `#/reports/funnel/${picker.value}?${new URLSearchParams({ from: fromInput.value, to: toInput.value })}`;
  });

  const head = h("tr", {}, h("th", { scope: "col" }, "Stage"), h("th", { scope: "col" }, "Passes"),
    OUTCOMES.map(([, label]) => h("th", { scope: "col" }, label)),
    h("th", { scope: "col" }, "To next"), h("th", { scope: "col" }, "From first"));
  const rows = report.stages.map((s) => h("tr", { dataset: { stageId: s.stage_id } },
    h("th", { scope: "row" }, s.name), h("td", {}, String(s.passes)),
    OUTCOMES.map(([key, label]) => h("td", {}, count(s[key], `${s.name}, ${label.toLowerCase()}`))),
    h("td", {}, percent(s.conversion_to_next)), h("td", {}, percent(s.conversion_from_first))));
  const lost = report.lost.map((r) => h("li", {}, `${r.month} · ${r.reason}: `, count(r.lost, `${r.reason} in ${r.month}`)));
  main.replaceChildren(
    h("h1", {}, `Funnel: ${pipeline.name}`),
    form,
    h("div", { class: "scroll" }, h("table", { class: "report", "aria-label": `Funnel of ${pipeline.name} from ${from} to ${to}` },
      h("thead", {}, head), h("tbody", {}, rows))),
    h("h2", {}, "Lost, per month and reason"),
    lost.length ? h("ul", {}, lost) : h("p", {}, "No deal was lost in the period."),
  );
}

function count(c, what) {
  const sums = c.sums.map((s) => `${s.amount} ${s.currency}`).join(", ");
  const text = sums ? `${c.deals} · ${sums}` : String(c.deals);
  if (!c.href || !c.deals) return text;
  return h("a", { href: drillDown(c.href), "aria-label": `${what}: ${c.deals} deals` }, text);
}

export async function showDrillDown(main, query) {
  const asked = new URLSearchParams(query);
  const deals = await all(`/deals?${asked}`);
  const back = `#/reports/funnel/${asked.get("pipeline_id") || ""}?${new URLSearchParams({ from: asked.get("from") || "", to: asked.get("to") || "" })}`;
  const outcome = (asked.get("funnel_outcome") || "").replaceAll("_", " ");
  main.replaceChildren(
    h("p", {}, h("a", { href: back }, "← Funnel")),
    h("h1", {}, `Deals: ${outcome}, ${asked.get("from")} – ${asked.get("to")}`),
    deals.length
      ? h("ul", { class: "plain", "aria-label": "Deals behind the count" }, deals.map((d) => h("li", { dataset: { dealId: d.id } },
          h("a", { href: `#/deals/${d.id}` }, d.title),
          h("span", { class: "meta" }, d.amount ? ` · ${d.amount} ${d.currency || ""}` : ""))))
      : h("p", {}, "No deals."),
  );
}
