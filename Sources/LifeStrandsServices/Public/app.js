// Life Strands chat UI: plain JavaScript, no build step. Talks to the REST API for NPCs and history,
// and to /ws for conversations (tokens stream in) and live status updates.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  userID: localStorage.getItem("lifestrands.user") || `player-${Math.random().toString(36).slice(2, 7)}`,
  npcs: [],
  npc: null,          // the selected NPC: {npc_id, revision, life_strand}
  session: null,      // the open conversation with it, if any
  socket: null,
  streaming: null,    // the NPC bubble a reply is streaming into
  pending: [],        // frames waiting for the socket to open
};
localStorage.setItem("lifestrands.user", state.userID);
// An access token, where the server requires one: from `#token=…` (a fragment never reaches a server log)
// or from the token field, kept in this browser.
state.token = new URLSearchParams(location.hash.slice(1)).get("token") || localStorage.getItem("lifestrands.token") || "";
useToken(state.token);

/// A player's token says who they are: its `sub` becomes the player id, which they can no longer change.
function useToken(token) {
  state.token = token;
  state.userFromToken = false;
  if (token) localStorage.setItem("lifestrands.token", token); else localStorage.removeItem("lifestrands.token");
  try {
    const claims = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    if (claims.role === "player" && claims.sub) {
      state.userID = claims.sub;
      state.userFromToken = true;
    }
  } catch { /* not a JWT: the server will say so */ }
}

// MARK: API

async function api(path, options = {}) {
  const headers = { "Content-Type": "application/json" };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  const response = await fetch(path, {
    headers, ...options,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  const reason = data?.error?.message || `${response.status} ${response.statusText}`;
  if (response.status === 401) {
    $("token").classList.add("needed");
    throw new Error(state.token
      ? `Your token was refused (${reason}): paste a current one into the Token field.`
      : "This server needs an access token: paste yours into the Token field.");
  }
  if (!response.ok) throw new Error(reason);
  $("token").classList.remove("needed");
  return data;
}

// MARK: WebSocket

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  // Browsers can't set headers on a WebSocket: the token goes in the query.
  const query = state.token ? `?access_token=${encodeURIComponent(state.token)}` : "";
  const socket = new WebSocket(`${scheme}://${location.host}/ws${query}`);
  state.socket = socket;
  setConnection("connecting");
  socket.onopen = () => {
    setConnection("open");
    if (state.npc) send({ type: "subscribe_npc", npc_id: state.npc.npc_id });
    for (const frame of state.pending.splice(0)) socket.send(JSON.stringify(frame));
  };
  socket.onclose = () => {
    setConnection("closed");
    if (state.streaming) finishStreaming(null, true);
    setTimeout(connect, 1500);
  };
  socket.onmessage = (event) => onFrame(JSON.parse(event.data));
}

function send(frame) {
  if (state.socket?.readyState === WebSocket.OPEN) state.socket.send(JSON.stringify(frame));
  else state.pending.push(frame);
}

function setConnection(value) {
  const badge = $("connection");
  badge.dataset.state = value;
  badge.textContent = { connecting: "connecting…", open: "live", closed: "reconnecting…" }[value];
}

function onFrame(frame) {
  switch (frame.type) {
    case "token":
      if (state.streaming && frame.session_id === state.session?.session_id) {
        state.streaming.text.textContent += frame.content;
        scrollMessages();
      }
      break;
    case "message_complete":
      if (frame.session_id === state.session?.session_id) finishStreaming(frame.usage, false);
      loadPast();
      break;
    case "conversation_started":
      state.session = frame;
      $("end-button").disabled = false;
      flushQueuedMessage();
      loadPast();
      break;
    case "conversation_ended":
      if (frame.session_id === state.session?.session_id) {
        state.session = null;
        $("end-button").disabled = true;
        addSystemLine("Conversation ended.");
      }
      loadPast();
      break;
    case "npc_status_update":
      if (frame.npc_id === state.npc?.npc_id) {
        state.npc.life_strand.current_status = frame.status;
        renderStatus(frame.status, true);
      }
      updateListMood(frame.npc_id, frame.status.mood);
      break;
    case "subscribed":
      if (frame.npc_id === state.npc?.npc_id) renderStatus(frame.status, false);
      break;
    case "error":
      showError(frame.message);
      if (state.streaming) finishStreaming(null, true);
      if (frame.code === "conversation_ended") { state.session = null; $("end-button").disabled = true; }
      break;
  }
}

// MARK: NPC list

async function loadNPCs() {
  const query = $("search").value.trim();
  const data = await api(`/api/npcs?limit=200${query ? `&name=${encodeURIComponent(query)}` : ""}`);
  state.npcs = data.npcs;
  const list = $("npc-list");
  list.replaceChildren(...state.npcs.map((npc) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.npcId = npc.npc_id;
    button.setAttribute("aria-current", String(npc.npc_id === state.npc?.npc_id));
    button.innerHTML = `<span class="name"></span><span class="meta"></span>`;
    button.querySelector(".name").textContent = npc.name;
    button.querySelector(".meta").textContent =
      [npc.occupation, npc.location].filter(Boolean).join(" · ") + (npc.mood ? ` — ${npc.mood}` : "");
    button.addEventListener("click", () => selectNPC(npc.npc_id));
    item.append(button);
    return item;
  }));
  $("npc-empty").hidden = state.npcs.length > 0 || query !== "";
}

/// Reloads the list; what went wrong (a missing token, say) shows where the list would be.
function refreshNPCs() {
  return loadNPCs().then(() => { $("list-error").hidden = true; }, (error) => {
    $("list-error").textContent = error.message;
    $("list-error").hidden = false;
  });
}

function updateListMood(npcID, mood) {
  const npc = state.npcs.find((n) => n.npc_id === npcID);
  if (npc) { npc.mood = mood; }
  const meta = document.querySelector(`[data-npc-id="${npcID}"] .meta`);
  if (meta && npc) meta.textContent = [npc.occupation, npc.location].filter(Boolean).join(" · ") + (mood ? ` — ${mood}` : "");
}

// MARK: One NPC

async function selectNPC(npcID) {
  if (state.npc) send({ type: "unsubscribe_npc", npc_id: state.npc.npc_id });
  hideError();
  state.npc = await api(`/api/npcs/${npcID}`);
  state.session = null;
  state.streaming = null;
  for (const button of document.querySelectorAll(".npc-list button")) {
    button.setAttribute("aria-current", String(button.dataset.npcId === npcID));
  }
  send({ type: "subscribe_npc", npc_id: npcID });
  renderProfile();
  $("welcome").hidden = true;
  $("npc-view").hidden = false;
  $("messages").replaceChildren();
  $("end-button").disabled = true;
  await loadPast(true);
  $("message-input").focus();
}

function renderProfile() {
  const strand = state.npc.life_strand;
  const background = strand.background || {};
  $("npc-name").textContent = strand.name;
  $("avatar").textContent = strand.name.split(/\s+/).map((w) => w[0]).slice(0, 2).join("").toUpperCase();
  $("npc-role").textContent = [
    background.age ? `${background.age}` : null, background.occupation, background.location,
  ].filter(Boolean).join(" · ");
  $("chat-title").textContent = `Talking with ${strand.name.split(" ")[0]}`;
  renderStatus(strand.current_status || {}, false);
  const traits = strand.personality?.traits || [];
  $("npc-traits").replaceChildren(...traits.map((trait) => {
    const chip = document.createElement("span");
    chip.textContent = trait;
    return chip;
  }));
  renderRelationship(strand.player_relationships?.[state.userID]);
}

function renderStatus(status, changed) {
  const list = $("npc-status");
  list.replaceChildren(...["mood", "health", "energy"].map((key) => {
    const cell = document.createElement("div");
    cell.innerHTML = "<dt></dt><dd></dd>";
    cell.querySelector("dt").textContent = key;
    cell.querySelector("dd").textContent = status[key] || "—";
    cell.dataset.field = key;
    if (changed) cell.classList.add("changed");
    return cell;
  }));
}

function renderRelationship(relationship) {
  const box = $("npc-relationship");
  if (!relationship) {
    box.innerHTML = `<p class="muted">You have not met yet.</p>`;
    return;
  }
  const affinity = Math.round(((relationship.affinity ?? 0) + 100) / 2);
  box.innerHTML = `
    <p><strong>To them you are</strong> <span class="kind"></span>.</p>
    <div class="meter"><span>Affinity</span><span class="bar"><i style="width:${affinity}%"></i></span><span>${relationship.affinity ?? 0}</span></div>
    <div class="meter"><span>Trust</span><span class="bar"><i style="width:${relationship.trust ?? 50}%"></i></span><span>${relationship.trust ?? 50}</span></div>
    <p class="muted">${relationship.interaction_count || 0} conversations so far.</p>`;
  box.querySelector(".kind").textContent = relationship.kind || "an acquaintance";
}

// MARK: Past conversations

async function loadPast(resumeActive = false) {
  if (!state.npc) return;
  const data = await api(`/api/conversations?npc_id=${state.npc.npc_id}&user_id=${encodeURIComponent(state.userID)}&limit=20`);
  const list = $("past");
  list.replaceChildren(...data.conversations.map((conversation) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    const when = new Date(conversation.started_at).toLocaleString();
    button.innerHTML = `<span class="when"></span><span class="state"></span>`;
    button.querySelector(".when").textContent = `${when} · ${conversation.message_count} messages`;
    button.querySelector(".state").textContent = conversation.state === "active" ? "open" : "ended";
    button.addEventListener("click", () => openConversation(conversation.session_id));
    item.append(button);
    return item;
  }));
  $("past-empty").hidden = data.conversations.length > 0;
  if (resumeActive) {
    const open = data.conversations.find((c) => c.state === "active");
    if (open) await openConversation(open.session_id);
  }
}

async function openConversation(sessionID) {
  const transcript = await api(`/api/conversations/${sessionID}`);
  state.session = transcript.state === "active" ? transcript : null;
  $("end-button").disabled = !state.session;
  $("messages").replaceChildren();
  for (const message of transcript.messages) addMessage(message.role, message.content, message);
  if (!state.session) addSystemLine("This conversation has ended; send a message to start a new one.");
}

// MARK: Messages

let queuedMessage = null;

function sendMessage(text) {
  hideError();
  addMessage("user", text);
  const bubble = addMessage("npc", "");
  bubble.classList.add("streaming");
  state.streaming = { bubble, text: bubble.querySelector(".text") };
  $("send-button").disabled = true;
  if (state.session) {
    send({ type: "message", session_id: state.session.session_id, content: text });
  } else {
    queuedMessage = text;
    send({ type: "start_conversation", npc_id: state.npc.npc_id, user_id: state.userID });
  }
}

function flushQueuedMessage() {
  if (queuedMessage === null || !state.session) return;
  send({ type: "message", session_id: state.session.session_id, content: queuedMessage });
  queuedMessage = null;
}

function finishStreaming(usage, failed) {
  const streaming = state.streaming;
  state.streaming = null;
  queuedMessage = null;
  $("send-button").disabled = false;
  if (!streaming) return;
  streaming.bubble.classList.remove("streaming");
  streaming.bubble.dataset.complete = String(!failed);
  if (failed) streaming.bubble.classList.add("incomplete");
  if (usage) streaming.bubble.append(usageLine(usage));
  if (!streaming.text.textContent.trim() && failed) streaming.bubble.remove();
}

function addMessage(role, text, stored) {
  const item = document.createElement("li");
  item.className = `message ${role}`;
  const body = document.createElement("span");
  body.className = "text";
  body.textContent = text;
  item.append(body);
  if (stored) {
    item.dataset.complete = String(stored.complete);
    if (!stored.complete) item.classList.add("incomplete");
    if (stored.usage) item.append(usageLine(stored.usage));
  }
  $("messages").append(item);
  scrollMessages();
  return item;
}

function addSystemLine(text) {
  const item = document.createElement("li");
  item.className = "message system";
  item.textContent = text;
  $("messages").append(item);
  scrollMessages();
}

function usageLine(usage) {
  const line = document.createElement("small");
  line.className = "usage";
  line.textContent = `${usage.completion_tokens} tokens · ${Math.round(usage.tokens_per_second)} tok/s · ` +
    `first token ${Math.round(usage.time_to_first_token_ms)} ms · ${usage.cached_tokens} of ${usage.prompt_tokens} prompt tokens reused`;
  return line;
}

function scrollMessages() {
  const list = $("messages");
  list.scrollTop = list.scrollHeight;
}

function showError(message) {
  const box = $("chat-error");
  box.textContent = message;
  box.hidden = false;
}

function hideError() { $("chat-error").hidden = true; }

// MARK: Wiring

function showPlayer() {
  $("user-id").value = state.userID;
  $("user-id").readOnly = state.userFromToken;
  $("user-id").title = state.userFromToken ? "Set by your token" : "";
}

showPlayer();
$("token").value = state.token;
$("token").addEventListener("change", () => {
  useToken($("token").value.trim());
  hideError();
  showPlayer();
  state.socket?.close();
  refreshNPCs();
});
$("user-id").addEventListener("change", () => {
  const value = $("user-id").value.trim();
  if (!value) { $("user-id").value = state.userID; return; }
  state.userID = value;
  localStorage.setItem("lifestrands.user", value);
  if (state.npc) selectNPC(state.npc.npc_id);
});
let searchTimer;
$("search").addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => refreshNPCs(), 200);
});
$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("message-input");
  const text = input.value.trim();
  if (!text || state.streaming || !state.npc) return;
  input.value = "";
  sendMessage(text);
});
$("message-input").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    $("composer").requestSubmit();
  }
});
$("end-button").addEventListener("click", () => {
  if (state.session) send({ type: "end_conversation", session_id: state.session.session_id });
});

connect();
refreshNPCs();
