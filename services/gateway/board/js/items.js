// A deal's line items (GET/PUT /deals/{id}/items): a row per line with its quantity, price,
// discount and VAT rate editable, the computed net, VAT and total, the deal's totals, a
// line added from the catalogue. Saving puts every row; a 422 shows each row's problem in
// that row (`items[1].discount` -> the second row's discount).
import { ApiError, all, get, put } from "./api.js";
import { field, h, problems } from "./dom.js";

const EDITABLE = [
  ["quantity", "Quantity"],
  ["price", "Price"],
  ["discount", "Discount"],
  ["vat_rate", "VAT %"],
];

export async function itemsSection(dealId) {
  const [lines, products] = await Promise.all([get(`/deals/${dealId}/items`), all("/products?active=true&limit=200")]);
  const root = h("div", { class: "items" });
  render(root, dealId, lines, products);
  // live events: lines changed by someone else (not while the caller is editing them, nor
  // while a refusal of their save is shown: the event of their own earlier change may
  // arrive after it); asked again once the lines are fetched, as the caller may have begun
  // editing meanwhile
  const editing = () => root.contains(document.activeElement) || root.querySelector('[role="alert"]');
  root.reload = async () => {
    if (editing()) return;
    const lines = await get(`/deals/${dealId}/items`);
    if (!editing()) render(root, dealId, lines, products);
  };
  return root;
}

function render(root, dealId, lines, products) {
  const rows = lines.items.map((item, i) => row(item, i));
  const t = lines.totals;
  const table = h("table", { class: "report", "aria-label": "Line items" },
    h("thead", {}, h("tr", {}, ["Product", ...EDITABLE.map(([, l]) => l), "Discount is", "Net", "VAT", "Total", ""].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.map((r) => r.tr)),
    h("tfoot", {}, h("tr", {}, h("th", { scope: "row", colspan: 6 }, `Totals (${t.currency})`),
      h("td", { "data-total": "net" }, t.net), h("td", { "data-total": "vat" }, t.vat),
      h("td", { "data-total": "total", "aria-label": `Total ${t.total} ${t.currency}` }, t.total), h("td"))),
  );
  const error = h("div");
  const product = h("select", { name: "product" }, products.map((p) => h("option", { value: p.id }, `${p.name} (${p.price} ${p.currency})`)));
  const quantity = h("input", { name: "quantity", type: "text", inputmode: "decimal", value: "1" });
  const save = async (extra = []) => {
    error.replaceChildren();
    for (const r of rows) r.clear();
    const items = [...rows.filter((r) => !r.removed).map((r) => r.value()), ...extra];
    try {
      render(root, dealId, await put(`/deals/${dealId}/items`, { items }), products);
    } catch (exc) {
      if (!(exc instanceof ApiError)) throw exc;
      const kept = rows.filter((r) => !r.removed);
      const other = exc.errors.filter((e) => {
        const m = /^items\[(\d+)\]\.(\w+)$/.exec(e.field || "");
        return !(m && kept[Number(m[1])]?.show(m[2], e));
      });
      if (other.length) error.replaceChildren(problems(new ApiError(exc.status, { ...exc.problem, errors: other })));
    }
  };
  const form = h("form", { class: "form wide", "aria-label": "Line items" },
    lines.items.length ? h("div", { class: "scroll" }, table) : h("p", {}, "No line items."),
    error,
    lines.items.length ? h("p", {}, h("button", { type: "submit" }, "Save line items")) : null,
    products.length
      ? h("details", {}, h("summary", {}, "Add a line"), field("Product of the new line", product), field("Quantity of the new line", quantity),
          h("p", {}, h("button", { type: "button", class: "secondary", onclick: () => save([{ product_id: Number(product.value), quantity: quantity.value }]) }, "Add line")))
      : h("p", { class: "meta" }, "The catalogue has no products yet."),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    save();
  });
  root.replaceChildren(form);
}

// One line: its inputs (labelled "Quantity of row 1", …), what it sends, its problems.
function row(item, i) {
  const name = `row ${i + 1}`;
  const inputs = Object.fromEntries(EDITABLE.map(([key, label]) => [key,
    h("input", { name: key, type: "text", inputmode: "decimal", value: item[key], "aria-label": `${label} of ${name} (${item.product_name})` })]));
  const kind = h("select", { name: "discount_type", "aria-label": `Discount type of ${name}` },
    ["amount", "percent"].map((k) => h("option", { value: k, selected: item.discount_type === k }, k)));
  const out = h("div"); // the row's problems, when a save is refused
  const state = { removed: false };
  const tr = h("tr", { dataset: { position: item.position } },
    h("th", { scope: "row" }, item.product_name, h("div", { class: "meta" }, `${item.product_code} · ${item.unit}`), out),
    EDITABLE.map(([key]) => h("td", {}, inputs[key])), h("td", {}, kind),
    h("td", {}, item.net), h("td", {}, item.vat), h("td", { "data-line-total": "" }, item.total),
    h("td", {}, h("button", { type: "button", class: "secondary", "aria-label": `Remove ${name}`, onclick: () => {
      state.removed = !state.removed;
      tr.classList.toggle("removed", state.removed);
    } }, "×")));
  return {
    tr,
    get removed() {
      return state.removed;
    },
    value: () => ({
      product_id: item.product_id,
      ...Object.fromEntries(EDITABLE.map(([key]) => [key, inputs[key].value.trim()]).filter(([key, v]) => v !== "" || key === "quantity")),
      discount_type: kind.value,
      currency: item.currency,
    }),
    clear() {
      out.replaceChildren();
      for (const input of Object.values(inputs)) input.removeAttribute("aria-invalid");
    },
    show(part, problem) {
      const label = EDITABLE.find(([key]) => key === part)?.[1] || part;
      const list = out.firstChild || out.appendChild(h("ul", { class: "problems", role: "alert" }));
      list.append(h("li", {}, `${label} (${problem.field}): ${problem.message}`));
      inputs[part]?.setAttribute("aria-invalid", "true");
      return true;
    },
  };
}
