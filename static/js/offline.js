// Field visits without a signal: the judge's phone keeps the judge's visits (IndexedDB) and
// everything the judge does offline, and sends it when a connection returns.
//
// Two pages use this module (their <... data-offline> says which):
// - "prepare" (/judge/offline, online): "Prepare for offline" sends what is waiting, fetches
//   the judge's bundle and stores it; the line below says what is stored, how big, when.
// - "shell" (/offline, served by the service worker even with no connection): the stored
//   visits, or one of them (?sheet=<id>): scores, comments, the on-site checklist and photos,
//   and at the end of the visit the KIM representative's confirmation (name and a drawn
//   signature, or the typed name with the box ticked; static/js/signature.js draws it).
//
// Every change is a queue item in IndexedDB, with a key of its own (client_key), what the
// phone knew before it (the sheet's version and the value then: "base") and a state:
// kept (waiting), sent (the server answered it), refused (with the server's message, kept
// for correction) or conflict (changed online meanwhile: both shown, the judge chooses).
// Items are sent one by one, in order, and marked sent only on the server's answer; an item
// once tried is never changed (a later edit is a new item), so a repeat of a save whose
// answer was lost is acknowledged by its key and never applied twice.
"use strict";

const root = document.querySelector("[data-offline]");
const T = JSON.parse(document.getElementById("offline-strings").textContent);
const DB_NAME = "monev-offline";
const CLIENT_KEY_BYTES = 16;

function fmt(text, params) {
  return text.replace(/\{(\w+)\}/g, (_m, name) => (params && name in params ? params[name] : ""));
}

// --- IndexedDB (plain code: two stores, promises around requests) ------------------------

let dbPromise = null;
function openDb() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      if (!("indexedDB" in window)) {
        reject(new Error("no indexedDB"));
        return;
      }
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => {
        const db = request.result;
        db.createObjectStore("meta");
        db.createObjectStore("queue", { keyPath: "seq", autoIncrement: true });
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  return dbPromise;
}

async function tx(stores, mode, work) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const t = db.transaction(stores, mode);
    let result;
    Promise.resolve(work(t)).then((r) => { result = r; }, reject);
    t.oncomplete = () => resolve(result);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error);
  });
}

function req(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

const store = {
  get: (key) => tx(["meta"], "readonly", (t) => req(t.objectStore("meta").get(key))),
  set: (key, value) => tx(["meta"], "readwrite", (t) => req(t.objectStore("meta").put(value, key))),
  items: () => tx(["queue"], "readonly", (t) => req(t.objectStore("queue").getAll())),
  add: (item) => tx(["queue"], "readwrite", (t) => req(t.objectStore("queue").add(item))),
  put: (item) => tx(["queue"], "readwrite", (t) => req(t.objectStore("queue").put(item))),
  remove: (seq) => tx(["queue"], "readwrite", (t) => req(t.objectStore("queue").delete(seq))),
};

// --- small helpers ---------------------------------------------------------------------

function newKey() {
  if (window.crypto && crypto.randomUUID) {
    return crypto.randomUUID();
  }
  const bytes = new Uint8Array(CLIENT_KEY_BYTES);
  (window.crypto || window.msCrypto).getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function isoWithOffset(date) {
  const pad = (n) => String(Math.floor(Math.abs(n))).padStart(2, "0");
  const offset = -date.getTimezoneOffset();
  return (
    date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) +
    "T" + pad(date.getHours()) + ":" + pad(date.getMinutes()) + ":" + pad(date.getSeconds()) +
    (offset >= 0 ? "+" : "-") + pad(offset / 60) + ":" + pad(offset % 60)
  );
}

function localMoment(iso, timezone, zone) {
  try {
    const text = new Intl.DateTimeFormat(document.documentElement.lang || "id", {
      day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
      hour12: false, timeZone: timezone,
    }).format(new Date(iso));
    return text.replace(/(\d\d)[.:](\d\d)$/, "$1.$2").replace(" pukul", ",") + (zone ? " " + zone : "");
  } catch (e) {
    return iso;
  }
}

function kilobytes(bytes) {
  if (bytes >= 1024 * 1024 * 1024) {
    return (bytes / 1024 / 1024 / 1024).toFixed(1).replace(".", ",") + " GB";
  }
  if (bytes >= 1024 * 1024) {
    return (bytes / 1024 / 1024).toFixed(1).replace(".", ",") + " MB";
  }
  return Math.max(1, Math.round(bytes / 1024)) + " KB";
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) {
      continue;
    }
    if (name === "text") {
      node.textContent = value;
    } else if (name.startsWith("on")) {
      node.addEventListener(name.slice(2), value);
    } else {
      node.setAttribute(name, value === true ? "" : value);
    }
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return node;
}

function urlFor(pattern, ids) {
  return pattern.replace("{sheet}", ids.sheet).replace("{criterion}", ids.criterion);
}

// --- what is stored ----------------------------------------------------------------------

async function loadBundle() {
  return (await store.get("bundle")) || null;
}

async function storedBytes(bundle, items) {
  let bytes = bundle ? new Blob([JSON.stringify(bundle)]).size : 0;
  for (const item of items) {
    bytes += new Blob([JSON.stringify({ ...item, blob: null })]).size;
    if (item.blob) {
      bytes += item.blob.size;
    }
  }
  return bytes;
}

async function storedLine() {
  const bundle = await loadBundle();
  if (!bundle) {
    return T.nothing_stored;
  }
  const items = await store.items();
  const n = bundle.visits.length;
  let line = fmt(T.stored, {
    visits: n === 1 ? T.visit_one : fmt(T.visit_many, { n }),
    size: kilobytes(await storedBytes(bundle, items)),
    when: bundle.prepared_text,
  });
  if (navigator.storage && navigator.storage.estimate) {
    try {
      const { usage, quota } = await navigator.storage.estimate();
      if (quota) {
        line += " " + fmt(T.browser_space, { used: kilobytes(usage || 0), quota: kilobytes(quota) });
      }
    } catch (e) { /* not told: the line above stands */ }
  }
  return line;
}

// --- the queue and the sync ----------------------------------------------------------------

function latest(items, sheet, kind, criterion) {
  let found = null;
  for (const item of items) {
    if (item.sheet === sheet && item.kind === kind && item.criterion === criterion) {
      if (!found || item.seq > found.seq) {
        found = item;
      }
    }
  }
  return found;
}

function visitOf(bundle, sheet) {
  return bundle ? bundle.visits.find((v) => v.sheet === sheet) || null : null;
}

// What the server held, as far as the phone knows, before a new change of this line.
function baseFor(bundle, items, sheet, kind, criterion) {
  const last = latest(items, sheet, kind, criterion);
  if (last && last.state === "kept" && last.tried) {
    return last.data; // maybe applied: the next change builds on it
  }
  if (last && (last.state === "refused" || last.state === "conflict" || last.state === "kept")) {
    return last.base;
  }
  const visit = visitOf(bundle, sheet);
  const table = kind === "score" ? visit.scores : visit.checks;
  const stored = table[String(criterion)];
  if (kind === "score") {
    return { value: stored ? stored.value : "", comment: stored ? stored.comment : "" };
  }
  return { mark: stored ? stored.mark : "", note: stored ? stored.note : "" };
}

// Keep one change of a score or a checklist line: the waiting item of the line is updated
// while it was never tried; otherwise a new item follows it (one transaction, so the sync
// cannot mark the item tried between the read and the write).
async function keepChange(sheet, kind, criterion, data) {
  return tx(["meta", "queue"], "readwrite", async (t) => {
    const queue = t.objectStore("queue");
    const bundle = await req(t.objectStore("meta").get("bundle"));
    const items = await req(queue.getAll());
    const last = latest(items, sheet, kind, criterion);
    if (last && last.state === "kept" && !last.tried) {
      last.data = data;
      await req(queue.put(last));
      return;
    }
    const item = {
      judge: bundle.judge.id,
      sheet,
      kind,
      criterion,
      key: newKey(),
      data,
      base: baseFor(bundle, items, sheet, kind, criterion),
      base_version: visitOf(bundle, sheet).version,
      state: "kept",
      tried: false,
      created: new Date().toISOString(),
    };
    if (last && (last.state === "refused" || last.state === "conflict")) {
      await req(queue.delete(last.seq)); // corrected: the new item replaces it
    }
    await req(queue.add(item));
  });
}

// Mark an item tried before it is sent, as it is now (never a stale copy).
async function markTried(seq) {
  return tx(["queue"], "readwrite", async (t) => {
    const queue = t.objectStore("queue");
    const item = await req(queue.get(seq));
    if (!item || item.state !== "kept") {
      return null;
    }
    item.tried = true;
    await req(queue.put(item));
    return item;
  });
}

async function fetchSession() {
  const response = await fetch(root.dataset.sessionUrl, {
    credentials: "same-origin",
    redirect: "manual",
    headers: { Accept: "application/json" },
    cache: "no-store",
  });
  if (response.type === "opaqueredirect" || response.status === 401 || response.status === 403) {
    return null;
  }
  if (!response.ok) {
    throw new Error(String(response.status));
  }
  return response.json();
}

// A 400 that names no field is the security token refused (the session changed meanwhile):
// the item is sent once more with a fresh token, not marked refused.
async function tokenRefused(response) {
  const answer = await readAnswer(response.clone());
  return !answer || (answer.ok === false && !answer.field);
}

async function readAnswer(response) {
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("json")) {
    try {
      return await response.json();
    } catch (e) {
      return null;
    }
  }
  return null;
}

async function sendItem(item, session) {
  const headers = { "X-CSRFToken": session.token, Accept: "application/json" };
  if (item.kind === "photo") {
    const body = new FormData();
    body.append("photo", item.blob, item.name || "foto.jpg");
    body.append("taken_at", item.data.taken_at);
    body.append("latitude", item.data.latitude ?? "");
    body.append("longitude", item.data.longitude ?? "");
    body.append("accuracy", item.data.accuracy ?? "");
    body.append("client_key", item.key);
    return fetch(urlFor(root.dataset.photoUrl, { sheet: item.sheet, criterion: item.criterion }), {
      method: "POST", body, headers, credentials: "same-origin", redirect: "manual",
    });
  }
  const body = { kind: item.kind, criterion_id: item.criterion, client_key: item.key, base_version: item.base_version };
  if (item.kind === "confirm") {
    Object.assign(body, {
      name: item.data.name, signature: item.data.signature, typed: item.data.typed, confirmed_at: item.data.confirmed_at,
    });
  } else if (item.kind === "score") {
    Object.assign(body, {
      value: item.data.value, comment: item.data.comment,
      base_value: item.base.value, base_comment: item.base.comment,
    });
  } else {
    Object.assign(body, {
      mark: item.data.mark, note: item.data.note, base_mark: item.base.mark, base_note: item.base.note,
    });
  }
  headers["Content-Type"] = "application/json";
  return fetch(urlFor(root.dataset.syncUrl, { sheet: item.sheet }), {
    method: "POST", body: JSON.stringify(body), headers, credentials: "same-origin", redirect: "manual",
  });
}

// The server acknowledged an item: the bundle now holds what is stored.
async function acknowledge(item, answer) {
  const bundle = await loadBundle();
  const visit = visitOf(bundle, item.sheet);
  if (visit && item.kind === "photo" && answer.applied) {
    visit.photos = visit.photos || {};
    visit.photos[String(item.criterion)] = (visit.photos[String(item.criterion)] || 0) + 1;
    await store.set("bundle", bundle);
  }
  if (visit && item.kind === "confirm") {
    visit.confirm = answer.stored || visit.confirm;
    await store.set("bundle", bundle);
  }
  if (visit && item.kind !== "photo" && item.kind !== "confirm") {
    if (typeof answer.version === "number") {
      visit.version = Math.max(visit.version, answer.version);
    }
    const table = item.kind === "score" ? visit.scores : visit.checks;
    table[String(item.criterion)] = answer.stored || item.data;
    await store.set("bundle", bundle);
  }
  item.state = "sent";
  item.message = "";
  item.sent = new Date().toISOString();
  if (item.kind === "photo") {
    item.photo = answer.photo || null;
    item.blob = null; // the photo is on the server now: free the phone's storage
  }
  if (item.kind === "confirm") {
    item.data = { ...item.data, signature: "" }; // stored on the server now
  }
  await store.put(item);
}

let syncing = null;
let again = false;
let status = { text: "", kind: "" };

// One pass over the queue. A change kept (or a conflict resolved) while a pass runs asks for
// another pass, so nothing waits for the next event.
async function sync() {
  if (syncing) {
    again = true;
    return syncing;
  }
  syncing = (async () => {
    let result;
    do {
      again = false;
      result = await syncOnce();
    } while (again && !result.offline && !result.signedOut && !result.otherUser && !result.error);
    return result;
  })();
  try {
    return await syncing;
  } finally {
    syncing = null;
  }
}

async function syncOnce() {
  const bundle = await loadBundle();
  const waiting = (await store.items()).filter((i) => i.state === "kept");
  if (!waiting.length) {
    return { sent: 0 };
  }
  if (!navigator.onLine) {
    return { offline: true };
  }
  let session;
  try {
    session = await fetchSession();
  } catch (e) {
    return { offline: true };
  }
  if (!session) {
    status = { text: T.signed_out, kind: "warn" };
    return { signedOut: true };
  }
  let sent = 0;
  status = { text: "", kind: "" };
  for (const queued of waiting) {
    if (bundle && session.user !== queued.judge) {
      status = { text: fmt(T.other_user, { name: bundle.judge.name }), kind: "warn" };
      return { otherUser: true };
    }
    if (queued.kind === "photo" && !root.dataset.photoUrl) {
      continue; // the server takes no photos yet: they wait on the phone
    }
    const item = await markTried(queued.seq);
    if (!item) {
      continue;
    }
    let response;
    try {
      response = await sendItem(item, session);
      if (response.status === 400 && (await tokenRefused(response))) {
        session = await fetchSession(); // the token expired: once more with a fresh one
        if (!session) {
          status = { text: T.signed_out, kind: "warn" };
          return { signedOut: true };
        }
        response = await sendItem(item, session);
      }
    } catch (e) {
      return { offline: true, sent }; // the connection dropped: the rest waits
    }
    if (response.type === "opaqueredirect") {
      status = { text: T.signed_out, kind: "warn" };
      return { signedOut: true };
    }
    const answer = await readAnswer(response);
    if (response.ok && answer && answer.ok) {
      await acknowledge(item, answer);
      sent += 1;
    } else if (answer && answer.conflict) {
      item.state = "conflict";
      item.server = answer.conflict.server;
      item.server_version = answer.conflict.version;
      item.message = answer.message;
      await store.put(item);
    } else if (answer && answer.ok === false && response.status < 500) {
      item.state = "refused";
      item.message = answer.message;
      item.field = answer.field || "";
      await store.put(item);
    } else {
      status = { text: fmt(T.server_error, { status: response.status }), kind: "warn" };
      return { error: response.status, sent };
    }
  }
  await store.set("last_sync", new Date().toISOString());
  return { sent };
}

// --- the prepare page ------------------------------------------------------------------------

async function registerWorker() {
  if ("serviceWorker" in navigator && root.dataset.workerUrl) {
    try {
      await navigator.serviceWorker.register(root.dataset.workerUrl, { scope: "/" });
    } catch (e) {
      /* without a worker the visit cannot open after a reload offline; the data is kept */
    }
  }
}

async function prepare(line, button) {
  button.setAttribute("aria-busy", "true");
  button.disabled = true;
  line.className = "notice";
  line.textContent = T.preparing;
  try {
    const old = await loadBundle();
    const waiting = (await store.items()).filter((i) => i.state === "kept");
    await sync();
    const response = await fetch(root.dataset.bundleUrl, {
      credentials: "same-origin", headers: { Accept: "application/json" }, redirect: "manual", cache: "no-store",
    });
    if (!response.ok) {
      throw new Error(response.type === "opaqueredirect" ? T.signed_out : String(response.status));
    }
    const bundle = await response.json();
    if (old && old.judge.id !== bundle.judge.id && waiting.some((i) => i.judge === old.judge.id)) {
      line.className = "notice notice-warn";
      line.textContent = fmt(T.other_judge, { name: old.judge.name });
      return;
    }
    await store.set("bundle", bundle);
    if (navigator.storage && navigator.storage.persist) {
      try { await navigator.storage.persist(); } catch (e) { /* best effort */ }
    }
    await registerWorker();
    if ("serviceWorker" in navigator) {
      await Promise.race([navigator.serviceWorker.ready, new Promise((r) => setTimeout(r, 5000))]);
    }
    line.className = "notice notice-ok";
    line.textContent = T.prepared + " " + (await storedLine());
  } catch (error) {
    line.className = "notice notice-bad";
    line.textContent = fmt(T.prepare_failed, { reason: error.message || String(error) });
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

async function startPrepare() {
  const line = document.getElementById("offline-stored");
  const button = document.getElementById("offline-prepare");
  registerWorker();
  try {
    line.textContent = await storedLine();
  } catch (e) {
    line.textContent = T.no_storage;
  }
  if (button) {
    button.addEventListener("click", () => prepare(line, button));
  }
  const clearBox = document.getElementById("offline-clear");
  if (clearBox) {
    clearBox.replaceChildren(clearControl(line));
  }
}

// A shared or borrowed phone: the judge removes the stored visits and everything kept with
// them. What was not sent yet is lost with them, so the question says how many and asks once
// more, in place.
function clearControl(line) {
  const box = el("div", { class: "offline-remove" });
  const ask = el("button", { type: "button", class: "secondary outline", onclick: async () => {
    const unsent = (await store.items()).filter((i) => i.state !== "sent").length;
    box.replaceChildren(
      el("p", { class: "small", role: "alert" }, unsent ? fmt(T.clear_unsent, { n: unsent }) : T.clear_confirm),
      el("div", { class: "offline-choices" },
        el("button", { type: "button", class: "contrast", onclick: async () => {
          await tx(["meta", "queue"], "readwrite", (t) => {
            t.objectStore("meta").clear();
            t.objectStore("queue").clear();
          });
          line.className = "notice notice-ok";
          line.textContent = T.cleared;
          box.replaceChildren(ask);
          ask.focus();
        } }, T.clear_yes),
        el("button", { type: "button", class: "secondary", onclick: () => { box.replaceChildren(ask); ask.focus(); } }, T.cancel)));
    box.querySelector("button").focus();
  } }, T.clear);
  box.append(ask);
  return box;
}

// --- the shell: the list and the visit ---------------------------------------------------------

const app = document.getElementById("offline-app");
let statusLine = null;

async function renderStatus() {
  if (!statusLine) {
    return;
  }
  const items = await store.items();
  const waiting = items.filter((i) => i.state === "kept").length;
  const attention = items.filter((i) => i.state === "refused" || i.state === "conflict").length;
  const lastSync = await store.get("last_sync");
  const parts = [navigator.onLine ? T.online : T.offline];
  if (waiting) {
    parts.push(fmt(T.waiting, { n: waiting }));
  }
  if (attention) {
    parts.push(fmt(T.attention, { n: attention }));
  }
  if (!waiting && !attention) {
    parts.push(T.all_sent);
  }
  if (lastSync) {
    const bundle = await loadBundle();
    const v = bundle && bundle.visits[0];
    parts.push(fmt(T.last_sync, { when: localMoment(lastSync, v ? v.timezone : undefined, v ? v.zone : "") }));
  }
  if (status.text) {
    parts.push(status.text);
  }
  statusLine.querySelector("[data-status-text]").textContent = parts.join(" ");
  statusLine.dataset.state = !navigator.onLine ? "offline" : waiting || attention ? "waiting" : "sent";
}

function statusBar() {
  statusLine = el("div", { class: "offline-status", role: "status", "aria-live": "polite" },
    el("p", { "data-status-text": true }),
    el("button", { type: "button", class: "secondary", id: "offline-send", onclick: () => sendNow() }, T.send_now));
  return statusLine;
}

async function sendNow() {
  status = { text: "", kind: "" };
  if (statusLine) {
    statusLine.querySelector("[data-status-text]").textContent = T.sending;
  }
  await sync();
  await render();
}

async function renderList(bundle, note) {
  const children = [];
  if (note) {
    children.push(el("p", { class: "notice notice-warn" }, note));
  }
  children.push(statusBar());
  children.push(el("p", { id: "offline-stored", class: "notice" }, await storedLine()));
  if (bundle && bundle.visits.length) {
    const items = await store.items();
    children.push(el("h2", {}, T.visits));
    children.push(el("ul", { class: "offline-visits" }, bundle.visits.map((v) => {
      const waiting = items.filter((i) => i.sheet === v.sheet && i.state === "kept").length;
      return el("li", {},
        el("a", { href: root.dataset.shellUrl + "?sheet=" + v.sheet }, v.label), " · ", v.when,
        el("br"), el("span", { class: "small muted" }, v.event + " · " + v.stage + " · " + v.address),
        waiting ? el("span", { class: "small" }, " · " + fmt(T.pending_count, { n: waiting })) : null);
    })));
  }
  app.replaceChildren(...children);
  await renderStatus();
}

function stateText(item) {
  if (!item) {
    return null;
  }
  if (item.state === "sent") {
    return T.state_sent;
  }
  if (item.state === "refused") {
    return fmt(T.state_refused, { message: item.message || "" });
  }
  if (item.state === "conflict") {
    return T.state_conflict;
  }
  return T.state_kept;
}

function stateNode(item, id) {
  const text = stateText(item);
  return el("p", { class: "offline-state small", id, "data-state": item ? item.state : "none" }, text || "");
}

function describe(data, kind) {
  if (kind === "score") {
    const value = data.value === "" || data.value == null ? T.empty_value : data.value;
    return data.comment ? value + " (" + data.comment + ")" : value;
  }
  const mark = data.mark ? T[data.mark] || data.mark : T.empty_value;
  return data.note ? mark + " (" + data.note + ")" : mark;
}

function conflictNode(item) {
  if (!item || item.state !== "conflict") {
    return null;
  }
  return el("div", { class: "notice notice-warn offline-conflict" },
    el("p", {}, fmt(T.conflict_text, { server: describe(item.server, item.kind), mine: describe(item.data, item.kind) })),
    el("div", { class: "offline-choices" },
      el("button", { type: "button", onclick: () => resolve(item, "mine") }, T.keep_mine),
      el("button", { type: "button", class: "secondary", onclick: () => resolve(item, "server") }, T.take_server)));
}

async function resolve(item, choice) {
  if (choice === "mine") {
    item.base = item.server;
    item.base_version = item.server_version;
    item.state = "kept";
    item.message = "";
    await store.put(item);
    await sync();
  } else {
    const bundle = await loadBundle();
    const visit = visitOf(bundle, item.sheet);
    (item.kind === "score" ? visit.scores : visit.checks)[String(item.criterion)] = item.server;
    visit.version = Math.max(visit.version, item.server_version);
    await store.set("bundle", bundle);
    await store.remove(item.seq);
  }
  await render();
}

function current(visit, items, kind, criterion) {
  const last = latest(items, visit.sheet, kind, criterion);
  if (last && last.state !== "sent") {
    return { data: last.data, item: last };
  }
  const stored = (kind === "score" ? visit.scores : visit.checks)[String(criterion)];
  return { data: stored || {}, item: last };
}

const syncSoon = (() => {
  let timer = null;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (navigator.onLine) { sync().then(() => render()); }
    }, 800);
  };
})();

function readPosition() {
  return new Promise((resolve) => {
    if (!navigator.geolocation) {
      resolve(null);
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (p) => resolve(p.coords),
      () => resolve(null),
      { enableHighAccuracy: true, timeout: 8000, maximumAge: 60000 }
    );
  });
}

async function thumbnail(file) {
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, 160 / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    return canvas.toDataURL("image/jpeg", 0.7);
  } catch (e) {
    return "";
  }
}

async function keepPhoto(visit, criterion, file) {
  const taken = new Date();
  const coords = await readPosition();
  const bundle = await loadBundle();
  await store.add({
    judge: bundle.judge.id,
    sheet: visit.sheet,
    kind: "photo",
    criterion,
    key: newKey(),
    name: file.name || "foto.jpg",
    blob: file,
    size: file.size,
    thumb: await thumbnail(file),
    data: {
      taken_at: isoWithOffset(taken),
      latitude: coords ? coords.latitude.toFixed(6) : "",
      longitude: coords ? coords.longitude.toFixed(6) : "",
      accuracy: coords ? String(Math.round(coords.accuracy)) : "",
    },
    state: "kept",
    tried: false,
    created: taken.toISOString(),
  });
}

function photoNode(visit, item) {
  const place = item.data.latitude
    ? fmt(T.photo_place, { lat: item.data.latitude, lon: item.data.longitude, acc: item.data.accuracy || "?" })
    : T.photo_no_place;
  const lines = [fmt(T.photo_stamp, { when: localMoment(item.data.taken_at, visit.timezone, visit.zone) }) + " " + place];
  if (item.photo && item.photo.distance_text) {
    lines.push(item.photo.distance_text);
  }
  return el("li", { class: "offline-photo", "data-photo": item.key },
    item.thumb ? el("img", { src: item.thumb, alt: "", width: 80, height: 80 }) : null,
    el("div", {},
      el("p", { class: "small" }, lines.join(" · ")),
      stateNode(item),
      item.state !== "sent" ? removeControl(item) : null));
}

// Removing a photo that is only on the phone loses it for good: asked once more, in place.
function removeControl(item) {
  const box = el("div", { class: "offline-remove" });
  const ask = el("button", { type: "button", class: "secondary outline", onclick: () => {
    box.replaceChildren(
      el("p", { class: "small", role: "alert" }, T.photo_delete_confirm),
      el("div", { class: "offline-choices" },
        el("button", { type: "button", class: "contrast", onclick: async () => { await store.remove(item.seq); await render(); } }, T.photo_delete_yes),
        el("button", { type: "button", class: "secondary", onclick: () => { box.replaceChildren(ask); ask.focus(); } }, T.cancel)));
    box.querySelector("button").focus();
  } }, T.photo_delete);
  box.append(ask);
  return box;
}

function criterionNode(visit, c, items, editable) {
  const id = c.id;
  const score = current(visit, items, "score", id);
  const check = current(visit, items, "check", id);
  const photos = items.filter((i) => i.sheet === visit.sheet && i.kind === "photo" && i.criterion === id);
  const evidence = visit.evidence[String(id)] || [];
  // Every keystroke is kept at once (what is typed is never only on the screen); the sync
  // waits until the judge pauses.
  const onScore = () => {
    const data = {
      value: document.getElementById("value-" + id).value,
      comment: document.getElementById("comment-" + id).value,
    };
    keepChange(visit.sheet, "score", id, data).then(() => refreshState(visit, id, "score")).then(syncSoon);
  };
  const onCheck = () => {
    const chosen = document.querySelector(`input[name="mark-${id}"]:checked`);
    const data = { mark: chosen ? chosen.value : "", note: document.getElementById("note-" + id).value };
    keepChange(visit.sheet, "check", id, data).then(() => refreshState(visit, id, "check")).then(() => {
      if (chosen) { syncSoon(); }
    });
  };
  const disabled = !editable;
  return el("fieldset", { class: "criterion-score offline-criterion", id: "criterion-" + id },
    el("legend", {}, c.name, " ", el("span", { class: "muted small" }, "· " + fmt(T.weight, { w: c.weight }))),
    c.guidance ? el("p", { class: "small" }, c.guidance) : null,
    c.descriptors.length
      ? el("ul", { class: "descriptors small" }, c.descriptors.map((d) =>
        el("li", {}, el("strong", {}, d.min === d.max ? d.min : d.min + "–" + d.max), ": " + d.text)))
      : null,
    // The evidence line only where the criterion asks for evidence (or some came), as online.
    evidence.length || (c.evidence && c.evidence !== "none")
      ? el("p", { class: "small" }, el("strong", {}, T.evidence + ": "),
        evidence.length ? evidence.map((e) => e.name).join(", ") : T.no_evidence)
      : null,
    el("div", { class: "grid-score" },
      el("div", {},
        el("label", { for: "value-" + id }, T.score),
        el("input", { id: "value-" + id, type: "text", inputmode: "decimal", autocomplete: "off", maxlength: 12,
          value: score.data.value || "", disabled, "aria-describedby": "range-" + id + " state-score-" + id, oninput: onScore }),
        el("small", { id: "range-" + id }, fmt(T.range, { min: c.min, max: c.max, step: c.step }))),
      el("div", {},
        el("label", { for: "comment-" + id }, T.comment),
        el("textarea", { id: "comment-" + id, rows: 2, maxlength: 4000, disabled, oninput: onScore }, score.data.comment || ""))),
    stateNode(score.item, "state-score-" + id),
    conflictNode(score.item && score.item.state === "conflict" ? score.item : null),
    el("fieldset", { class: "offline-check" },
      el("legend", {}, T.checklist),
      ["observed", "partly", "not_observed"].map((mark) =>
        el("label", {}, el("input", { type: "radio", name: "mark-" + id, value: mark, checked: check.data.mark === mark, disabled, onchange: onCheck }), " " + T[mark])),
      el("label", { for: "note-" + id }, T.note),
      el("textarea", { id: "note-" + id, rows: 2, maxlength: 2000, disabled, oninput: onCheck }, check.data.note || ""),
      stateNode(check.item, "state-check-" + id),
      conflictNode(check.item && check.item.state === "conflict" ? check.item : null)),
    el("div", { class: "offline-photos" },
      el("p", { class: "small" }, el("strong", {}, T.photos), " · ",
        c.photos_required
          ? fmt(T.photos_required, { have: (visit.photos || {})[String(id)] || 0, need: c.photos_required })
          : fmt(T.photos_on_server, { n: (visit.photos || {})[String(id)] || 0 })),
      !root.dataset.photoUrl ? el("p", { class: "small muted" }, T.photos_pending) : null,
      photos.length ? el("ul", { class: "offline-photo-list" }, photos.map((p) => photoNode(visit, p))) : null,
      editable
        ? el("div", { class: "offline-photo-take" },
          el("label", { for: "photo-" + id }, T.take_photo),
          el("input", { type: "file", id: "photo-" + id, accept: "image/*", capture: "environment", "data-photo-input": id,
            "aria-describedby": "photo-status-" + id,
            onchange: async (event) => {
              // Reading the position may take up to 8 s: say so, and take no second tap meanwhile.
              const input = event.target;
              const said = document.getElementById("photo-status-" + id);
              input.disabled = true;
              said.textContent = T.photo_saving;
              try {
                for (const file of input.files) {
                  await keepPhoto(visit, id, file);
                }
              } catch (e) {
                input.disabled = false;
                said.textContent = T.photo_save_failed;
                return;
              }
              input.value = "";
              if (navigator.onLine) { await sync(); }
              await render();
              const drawn = document.getElementById("photo-" + id);
              if (drawn) { drawn.focus(); }
            } }),
          el("p", { class: "small", id: "photo-status-" + id, role: "status" }))
        : null));
}

async function refreshState(visit, id, kind) {
  const items = await store.items();
  const item = latest(items, visit.sheet, kind, id);
  const node = document.getElementById(`state-${kind}-${id}`);
  if (node) {
    node.textContent = stateText(item) || "";
    node.dataset.state = item ? item.state : "none";
  }
  await renderStatus();
}

// --- the KIM representative's confirmation --------------------------------------------------
//
// At the end of the visit the representative confirms on this phone: kept in the queue like
// any save (kind "confirm", its own key, the phone's time) and sent to the sync, where the
// online confirmation's service decides (the same rules and refusals; the same key twice is
// stored once). Only what a form cannot know is not checked here: the server's answer is
// shown under the form. A form being filled in is kept across a redraw (the drawing too).

let confirmDraft = null; // { sheet, seq (of a refused one), node }: the form on the screen, kept when the page redraws

function confirmItem(items, sheet) {
  return latest(items, sheet, "confirm", 0);
}

function confirmNode(visit, items) {
  const c = visit.confirm || {};
  const item = confirmItem(items, visit.sheet);
  const heading = el("h2", { id: "confirm-title", class: "h3", tabindex: "-1" }, T.confirm_title);
  const section = (...children) =>
    el("section", { id: "offline-confirm", class: "offline-confirm", "aria-labelledby": "confirm-title" }, heading, ...children);
  if (item && item.state !== "refused") {
    const when = localMoment(item.data.confirmed_at, visit.timezone, visit.zone);
    return section(
      el("p", { class: "notice notice-ok" }, fmt(T.confirm_kept, { name: item.data.name, when })),
      stateNode(item, "state-confirm"));
  }
  if (c.done) {
    return section(el("p", { class: "notice notice-ok" }, fmt(T.confirm_done, { name: c.name, when: c.when })));
  }
  const seq = item ? item.seq : null;
  if (confirmDraft && confirmDraft.sheet === visit.sheet && confirmDraft.seq === seq) {
    return confirmDraft.node;
  }
  const node = section(
    el("p", {}, fmt(T.confirm_intro, { when: visit.when, where: visit.address })),
    item ? el("p", { class: "notice notice-bad", role: "alert" }, stateText(item), item.field ? " " + T.confirm_fix : "") : null,
    confirmForm(visit, item));
  confirmDraft = { sheet: visit.sheet, seq, node };
  return node;
}

function confirmForm(visit, refused) {
  const c = visit.confirm || {};
  const error = el("p", { class: "field-error", id: "confirm-error" }); // an alert once it says something
  const name = el("input", { id: "confirm-name", type: "text", autocomplete: "off", maxlength: c.name_max || 200,
    value: refused ? refused.data.name : "", "aria-describedby": "confirm-error" });
  const typed = el("input", { id: "confirm-typed", type: "checkbox", checked: refused ? refused.data.typed : false });
  const form = el("form", { class: "signature-form", novalidate: true },
    el("label", { for: "confirm-name" }, T.confirm_name), name,
    el("fieldset", { class: "signature-pad" },
      el("legend", {}, T.confirm_signature),
      el("p", { class: "small muted", id: "confirm-signature-help" }, T.confirm_signature_help),
      el("canvas", { width: 600, height: 200, role: "img", "aria-label": T.confirm_signature_area,
        "aria-describedby": "confirm-signature-help", "data-signature-canvas": true }),
      el("p", {}, el("button", { type: "button", class: "secondary outline", "data-signature-clear": true }, T.confirm_signature_clear))),
    el("label", { for: "confirm-typed" }, typed, " ", T.confirm_typed),
    error,
    el("button", { type: "submit", id: "confirm-submit" }, T.confirm_button));
  const pad = window.MonevSignature ? window.MonevSignature.attach(form) : { value: () => "" };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = {
      name: name.value.split(/\s+/).filter(Boolean).join(" "),
      signature: pad.value(),
      typed: typed.checked,
      confirmed_at: isoWithOffset(new Date()),
    };
    const problem = !data.name ? [T.confirm_need_name, name]
      : !data.signature && !data.typed ? [T.confirm_need_signature, typed]
        : c.opens_at && new Date() < new Date(c.opens_at) ? [fmt(T.confirm_too_early, { when: c.opens }), name]
          : null;
    name.removeAttribute("aria-invalid");
    typed.removeAttribute("aria-invalid");
    if (problem) {
      error.setAttribute("role", "alert");
      error.textContent = problem[0];
      problem[1].setAttribute("aria-invalid", "true");
      problem[1].focus();
      return;
    }
    await keepConfirm(visit, data);
    confirmDraft = null;
    await render();
    const title = document.getElementById("confirm-title");
    if (title) { title.focus(); }
    if (navigator.onLine) { await sync(); await render(); }
  });
  return form;
}

async function keepConfirm(visit, data) {
  return tx(["meta", "queue"], "readwrite", async (t) => {
    const queue = t.objectStore("queue");
    const bundle = await req(t.objectStore("meta").get("bundle"));
    const items = await req(queue.getAll());
    const last = confirmItem(items, visit.sheet);
    if (last && last.state === "refused") {
      await req(queue.delete(last.seq)); // corrected: the new confirmation replaces it
    }
    await req(queue.add({
      judge: bundle.judge.id,
      sheet: visit.sheet,
      kind: "confirm",
      criterion: 0,
      key: newKey(),
      data,
      state: "kept",
      tried: false,
      created: new Date().toISOString(),
    }));
  });
}

async function renderVisit(bundle, sheet) {
  const visit = visitOf(bundle, sheet);
  if (!visit) {
    await renderList(bundle, T.not_stored);
    return;
  }
  const items = await store.items();
  const focused = document.activeElement && document.activeElement.id;
  document.getElementById("offline-title").textContent = T.visit + " · " + visit.label;
  document.title = T.visit + " · " + visit.label + " · Monev KIM";
  const place = visit.latitude !== null
    ? [" ", el("span", { class: "muted small" }, `(${visit.latitude}, ${visit.longitude})`), " ",
      el("a", { href: `geo:${visit.latitude},${visit.longitude}` }, T.map)]
    : [];
  const children = [
    el("p", {}, el("a", { href: root.dataset.shellUrl }, "← " + T.back)),
    el("p", { class: "muted" }, visit.event + " · " + visit.stage),
    el("dl", { class: "facts" },
      el("dt", {}, T.when), el("dd", {}, visit.when),
      el("dt", {}, T.where), el("dd", {}, visit.address, ...place)),
    statusBar(),
    !visit.editable ? el("p", { class: "notice notice-warn" }, fmt(T.closed, { reason: visit.closed_reason })) : null,
  ];
  const presentation = visit.evidence.presentation || [];
  if (presentation.length) {
    children.push(el("p", { class: "small" }, el("strong", {}, T.presentation + ": "), presentation.map((e) => e.name).join(", ")));
  }
  for (const aspect of visit.aspects) {
    children.push(el("section", { class: "sheet-aspect", "aria-labelledby": "aspect-" + aspect.id },
      el("h2", { id: "aspect-" + aspect.id, class: "h3" }, aspect.name),
      aspect.criteria.map((c) => criterionNode(visit, c, items, visit.editable))));
  }
  children.push(confirmNode(visit, items));
  app.replaceChildren(...children.filter(Boolean));
  if (focused && document.getElementById(focused)) {
    document.getElementById(focused).focus();
  }
  await renderStatus();
}

// The online confirmation page opened with no signal: the stored visit, at its confirmation.
function confirmPageSheet(bundle) {
  const pattern = root.dataset.confirmUrl;
  if (!pattern || !bundle) {
    return 0;
  }
  const [before, after] = pattern.split("{visit}");
  const path = location.pathname;
  if (!path.startsWith(before) || !path.endsWith(after)) {
    return 0;
  }
  const id = Number(path.slice(before.length, path.length - after.length));
  const visit = bundle.visits.find((v) => v.visit === id);
  return visit ? visit.sheet : 0;
}

async function render() {
  const bundle = await loadBundle();
  const params = new URLSearchParams(location.search);
  const atConfirm = location.pathname !== root.dataset.shellUrl ? confirmPageSheet(bundle) : 0;
  const sheet = atConfirm || Number(params.get("sheet"));
  const elsewhere = location.pathname !== root.dataset.shellUrl && !atConfirm;
  if (sheet && !elsewhere) {
    // Typing must not be interrupted: a visit is drawn again only when no field is in use.
    const active = document.activeElement;
    if (active && app.contains(active) && (active.tagName === "INPUT" || active.tagName === "TEXTAREA") && active.type !== "file" && active.type !== "radio") {
      const visit = visitOf(bundle, sheet);
      for (const node of app.querySelectorAll("[id^=state-score-], [id^=state-check-]")) {
        const [, kind, id] = node.id.split("-");
        await refreshState(visit, Number(id), kind);
      }
      return;
    }
    await renderVisit(bundle, sheet);
  } else {
    await renderList(bundle, elsewhere ? T.page_needs_signal : null);
  }
}

async function startShell() {
  registerWorker();
  try {
    await openDb();
  } catch (e) {
    app.replaceChildren(el("p", { class: "notice notice-bad" }, T.no_storage));
    return;
  }
  await render();
  const confirmTitle = document.getElementById("confirm-title");
  if (confirmTitle && location.pathname !== root.dataset.shellUrl) {
    confirmTitle.scrollIntoView();
    confirmTitle.focus();
  }
  window.addEventListener("online", async () => { await sync(); await render(); });
  window.addEventListener("offline", () => renderStatus());
  if (navigator.onLine) {
    await sync();
    await render();
  }
  document.documentElement.dataset.offlineReady = "true";
}

if (root && root.dataset.offline === "prepare") {
  startPrepare();
} else if (root) {
  startShell();
}
