// A task's answer form, built from what the task declares (its outcomes, answer_fields and
// comment_outcomes), so the board needs to know nothing of the process behind it.
import { ApiError, all, post } from "./api.js";
import { field, h, problems, uid } from "./dom.js";

async function control(spec, dealId) {
  const name = spec.name;
  if (spec.options && spec.options.length) {
    return h("select", { name }, h("option", { value: "" }, "—"), spec.options.map((o) => h("option", { value: o }, o)));
  }
  switch (spec.type) {
    case "text":
      return h("textarea", { name, rows: 3 });
    case "list":
      return h("textarea", { name, rows: 3, "aria-description": "one item a line" });
    case "date":
      return h("input", { name, type: "date" });
    case "number":
      return h("input", { name, type: "number", step: "any" });
    case "boolean":
      return h("input", { name, type: "checkbox" });
    case "file":
    case "files": {
      const files = dealId ? await all(`/files?deal_id=${dealId}`) : [];
      return h(
        "select",
        { name, multiple: spec.type === "files" },
        spec.type === "file" ? h("option", { value: "" }, "—") : null,
        files.map((f) => h("option", { value: f.id }, f.name || f.filename || `file ${f.id}`)),
      );
    }
    default:
      return h("input", { name, type: "text" });
  }
}

function value(spec, el) {
  switch (spec.type) {
    case "boolean":
      return el.checked;
    case "number":
      return el.value === "" ? undefined : Number(el.value);
    case "list":
      return el.value.split("\n").map((s) => s.trim()).filter(Boolean);
    case "files":
      return [...el.selectedOptions].map((o) => o.value);
    default:
      return el.value === "" ? undefined : el.value;
  }
}

// `handed_on` -> "Handed on", for a field the process gave no label.
const humanize = (name) => name.charAt(0).toUpperCase() + name.slice(1).replaceAll("_", " ");

export async function answerForm(task, onDone) {
  const titleId = uid("task");
  const outcomes = task.outcomes.length
    ? h("select", { name: "outcome", required: true }, task.outcomes.map((o) => h("option", { value: o }, o)))
    : h("input", { name: "outcome", required: true });
  const inputs = [];
  for (const spec of task.answer_fields) {
    const el = await control(spec, task.deal_id);
    const needed = spec.required && !spec.required_for.length ? " (required)" : spec.required_for.length ? ` (for ${spec.required_for.join(", ")})` : "";
    inputs.push([spec, el, field(`${spec.label || humanize(spec.name)}${needed}`, el)]);
  }
  const comment = h("textarea", { name: "comment", rows: 2 });
  const commentNote = task.comment_outcomes.length ? ` (needed for ${task.comment_outcomes.join(", ")})` : "";
  const error = h("div");
  const form = h(
    "form",
    { class: "form task-form", "aria-labelledby": titleId, dataset: { taskId: task.id, kind: task.kind || "" } },
    h("h3", { id: titleId }, task.title),
    task.description ? h("p", { class: "meta" }, task.description) : null,
    task.deadline ? h("p", { class: "meta" }, `Due ${new Date(task.deadline).toLocaleString()}`) : null,
    field("Outcome", outcomes),
    inputs.map(([, , wrapper]) => wrapper),
    field(`Comment${commentNote}`, comment),
    error,
    h("p", {}, h("button", { type: "submit" }, "Answer")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.replaceChildren();
    const data = {};
    for (const [spec, el] of inputs) {
      const v = value(spec, el);
      if (v !== undefined) data[spec.name] = v;
    }
    if (comment.value.trim()) data.comment = comment.value.trim();
    try {
      await post(`/tasks/${task.id}/complete`, { outcome: outcomes.value, data });
    } catch (exc) {
      if (!(exc instanceof ApiError)) throw exc;
      error.replaceChildren(problems(exc));
      return;
    }
    form.replaceChildren(h("p", { role: "status" }, `Answered: ${outcomes.value}`));
    if (onDone) onDone();
  });
  return form;
}
