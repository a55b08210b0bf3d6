// The board: a hash router over the views; every view uses the public REST API only.
import { ApiError, get, signIn, signOut, signedIn } from "./api.js";
import { h, field, problems } from "./dom.js";
import { showBoard } from "./kanban.js";
import { showDeal } from "./deal.js";
import { showTasks } from "./tasks.js";
import { showApprovals } from "./approvals.js";
import { showDrillDown, showFunnel } from "./funnel.js";
import { follow } from "./live.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");

const routes = [
  [/^#\/board(?:\/(\d+))?$/, (root, m) => showBoard(root, m[1])],
  [/^#\/deals\/(\d+)$/, (root, m) => showDeal(root, m[1])],
  [/^#\/tasks$/, (root) => showTasks(root)],
  [/^#\/approvals$/, (root) => showApprovals(root)],
  [/^#\/reports\/funnel(?:\/(\d+))?(?:\?(.*))?$/, (root, m) => showFunnel(root, m[1], m[2] || "")],
  [/^#\/reports\/deals\?(.*)$/, (root, m) => showDrillDown(root, m[1])],
];

function showSignIn() {
  nav.hidden = true;
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const error = h("div");
  const form = h(
    "form",
    { class: "form", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Sign in"),
    field("E-mail", email),
    field("Password", password),
    error,
    h("p", {}, h("button", { type: "submit" }, "Sign in")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.replaceChildren();
    try {
      await signIn(email.value.trim(), password.value);
      location.hash = "#/board";
    } catch (exc) {
      error.replaceChildren(problems(exc));
    }
  });
  main.replaceChildren(form);
  email.focus();
}

let routing = 0;

async function route() {
  const mine = ++routing; // a later navigation wins over one still loading
  if (!signedIn()) {
    if (location.hash !== "#/signin") location.hash = "#/signin";
    showSignIn();
    return;
  }
  nav.hidden = false;
  const me = await get("/me");
  document.getElementById("me").textContent = me.name;
  const hash = location.hash && location.hash !== "#/signin" ? location.hash : "#/board";
  for (const link of nav.querySelectorAll("a")) {
    const current = hash.startsWith(link.getAttribute("href"));
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  follow(null); // the next view says what it follows
  for (const [pattern, view] of routes) {
    const match = hash.match(pattern);
    if (match) {
      const view_root = h("div");
      main.setAttribute("aria-busy", "true");
      try {
        await view(view_root, match, me);
      } catch (exc) {
        if (!(exc instanceof ApiError)) throw exc;
        view_root.replaceChildren(h("h1", {}, "Something went wrong"), problems(exc));
      }
      if (mine !== routing) return;
      main.removeAttribute("aria-busy");
      main.replaceChildren(view_root);
      main.focus({ preventScroll: true });
      return;
    }
  }
  location.hash = "#/board";
}

document.getElementById("sign-out").addEventListener("click", async () => {
  await signOut();
  location.hash = "#/signin";
});
window.addEventListener("hashchange", route);
route();
