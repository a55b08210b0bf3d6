// A deal's chat (GET/POST /deals/{id}/chat: read, post, mention someone) and its folder
// (GET /deals/{id}/folder: sub-folders opened on demand, files downloaded).
import { ApiError, all, bearer, get, post } from "./api.js";
import { field, h, problems, when } from "./dom.js";

let people = null;
const users = async () => (people ??= Object.fromEntries((await all("/users?limit=200")).map((u) => [u.id, u])));

export async function chatSection(dealId) {
  const root = h("div", { class: "chat" });
  const messages = h("ol", { class: "plain messages", "aria-label": "Chat messages" });
  const reload = async () => {
    const [chat, who] = await Promise.all([get(`/deals/${dealId}/chat?limit=100`), users()]);
    messages.replaceChildren(...[...chat.items].reverse().map((m) => message(m, who)));
  };
  await reload();
  const who = await users();
  const body = h("textarea", { name: "body", rows: 2 });
  const mentions = h("select", { name: "mentions", multiple: true, size: 3 },
    Object.values(who).filter((u) => u.active).map((u) => h("option", { value: u.id }, u.name)));
  const error = h("div");
  const form = h("form", { class: "form", "aria-label": "Post to the chat" },
    field("Message", body), field("Mention (optional; they are told)", mentions), error,
    h("p", {}, h("button", { type: "submit" }, "Post")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.replaceChildren();
    const mention_ids = [...mentions.selectedOptions].map((o) => Number(o.value));
    try {
      await post(`/deals/${dealId}/chat`, { body: body.value.trim(), mention_ids });
    } catch (exc) {
      if (!(exc instanceof ApiError)) throw exc;
      error.replaceChildren(problems(exc));
      return;
    }
    body.value = "";
    for (const o of mentions.options) o.selected = false;
    await reload();
  });
  root.replaceChildren(messages, form);
  root.reload = reload; // live events: a message posted by anyone
  return root;
}

function message(m, who) {
  const author = m.author_id === null ? "Dealflow" : who[m.author_id]?.name || `user ${m.author_id}`;
  const named = m.mention_ids.map((id) => `@${who[id]?.name || id}`).join(" ");
  return h("li", { dataset: { messageId: m.id } },
    h("div", { class: "meta" }, `${author} · ${when(m.created_at)}`),
    h("div", { class: "body" }, m.body),
    named ? h("div", { class: "meta" }, named) : null,
    m.file_ids.length ? h("div", { class: "meta" }, `files: ${m.file_ids.join(", ")}`) : null);
}

export async function folderSection(dealId, folderId = null) {
  const folder = await get(`/deals/${dealId}/folder${folderId ? `?folder_id=${folderId}` : ""}`);
  const items = [
    ...folder.folders.map((f) => {
      const inner = h("div");
      const details = h("details", {}, h("summary", {}, `📁 ${f.name}`), inner);
      details.addEventListener("toggle", async () => {
        if (details.open && !inner.childElementCount) inner.append(await folderSection(dealId, f.id));
      }, { once: false });
      return h("li", {}, details);
    }),
    ...folder.files.map((f) => h("li", {}, h("a", { href: "#", onclick: (e) => download(e, f) }, f.name),
      h("span", { class: "meta" }, ` · ${Math.ceil(f.size / 1024)} KB · ${when(f.created_at)}`))),
  ];
  return items.length ? h("ul", { "aria-label": `Folder ${folder.name}` }, items) : h("p", {}, "The folder is empty.");
}

export async function download(event, file) {
  event.preventDefault();
  const resp = await fetch(`/api/v1/files/${file.id}/content`, { headers: { authorization: bearer() } });
  window.open(URL.createObjectURL(await resp.blob()), "_blank");
}
