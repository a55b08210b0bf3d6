// My tasks: every open task of the caller, each with its answer form.
import { all } from "./api.js";
import { h } from "./dom.js";
import { answerForm } from "./forms.js";

let rendering = 0;

export async function showTasks(main) {
  const mine = ++rendering; // only the latest of overlapping refreshes is shown
  main.setAttribute("aria-busy", "true");
  const tasks = await all("/tasks?assignee=me&status=open&limit=100");
  const list = h("ul", { class: "plain", "aria-label": "My open tasks" });
  for (const task of tasks) {
    const deal = task.deal_id ? h("a", { href: `#/deals/${task.deal_id}` }, `Deal ${task.deal_id}`) : null;
    list.append(h("li", {}, deal, await answerForm(task, () => {})));
  }
  if (mine !== rendering) return;
  main.removeAttribute("aria-busy");
  main.replaceChildren(
    h("h1", {}, "My tasks"),
    tasks.length ? list : h("p", {}, "Nothing waits for you."),
    h("p", {}, h("button", { type: "button", class: "secondary", onclick: () => showTasks(main) }, "Refresh")),
  );
}
