// My approvals: the requests waiting for the caller's decision.
import { ApiError, all, post } from "./api.js";
import { field, h, problems, uid } from "./dom.js";

export async function showApprovals(main) {
  const requests = await all("/approvals?assignee=me");
  const list = h("ul", { class: "plain", "aria-label": "Approvals waiting for me" });
  for (const request of requests) list.append(h("li", {}, decisionForm(request)));
  main.replaceChildren(
    h("h1", {}, "My approvals"),
    requests.length ? list : h("p", {}, "No approval waits for you."),
  );
}

function decisionForm(request) {
  const titleId = uid("approval");
  const decision = h("select", { name: "decision" }, h("option", { value: "approve" }, "approve"), h("option", { value: "reject" }, "reject"));
  const comment = h("textarea", { name: "comment", rows: 2 });
  const error = h("div");
  const form = h(
    "form",
    { class: "form", "aria-labelledby": titleId },
    h("h3", { id: titleId }, `${request.template_code} `, h("a", { href: `#/deals/${request.deal_id}` }, `deal ${request.deal_id}`)),
    field("Decision", decision),
    field("Comment (needed to reject)", comment),
    error,
    h("p", {}, h("button", { type: "submit" }, "Decide")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await post(`/approvals/${request.id}/decision`, { decision: decision.value, comment: comment.value });
      form.replaceChildren(h("p", { role: "status" }, `Decided: ${decision.value}`));
    } catch (exc) {
      if (!(exc instanceof ApiError)) throw exc;
      error.replaceChildren(problems(exc));
    }
  });
  return form;
}
