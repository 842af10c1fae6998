// The copy daemon's status page: lists the jobs and follows the unfinished ones through their
// event streams. The token comes from the URL fragment (#token=..., never sent to the server) or the
// form; it is kept for this tab only (sessionStorage) and put in a SameSite=Strict cookie for /v1,
// because EventSource cannot send an Authorization header. The server accepts the cookie for reads
// only; cancelling sends the header.
"use strict";

const TERMINAL = new Set(["done", "failed", "cancelled"]);
const streams = new Map(); // job id -> EventSource
let token = null;

function init() {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromHash) {
    sessionStorage.setItem("extentflow-token", fromHash);
    history.replaceState(null, "", location.pathname);
  }
  token = sessionStorage.getItem("extentflow-token");
  document.getElementById("login").addEventListener("submit", ev => {
    ev.preventDefault();
    token = document.getElementById("token").value.trim();
    sessionStorage.setItem("extentflow-token", token);
    start();
  });
  if (token) {
    start();
  } else {
    document.getElementById("login").hidden = false;
  }
}

function start() {
  document.cookie = "extentflow_token=" + encodeURIComponent(token) + "; path=/v1; SameSite=Strict";
  refresh();
  setInterval(refresh, 2000); // picks up jobs submitted meanwhile; progress comes from the event streams
}

async function refresh() {
  let reply;
  try {
    reply = await fetch("/v1/copies", { headers: { "Authorization": "Bearer " + token } });
  } catch (e) {
    return message("The daemon does not answer: " + e.message);
  }
  if (reply.status === 401 || reply.status === 403) {
    document.getElementById("login").hidden = false;
    return message((await reply.json()).error);
  }
  document.getElementById("login").hidden = true;
  const jobs = await reply.json();
  message(jobs.length === 0 ? "No copy jobs yet." : "");
  document.getElementById("jobs").hidden = jobs.length === 0;
  for (const job of jobs) {
    render(job);
    if (!TERMINAL.has(job.state) && !streams.has(job.id)) {
      follow(job.id);
    }
  }
  summary(jobs);
}

function follow(id) {
  const source = new EventSource("/v1/copies/" + encodeURIComponent(id) + "/events");
  streams.set(id, source);
  source.onopen = () => setLive(id, true);
  source.addEventListener("progress", ev => render(JSON.parse(ev.data)));
  source.addEventListener("result", ev => {
    render(JSON.parse(ev.data));
    source.close(); // the server ends the stream after the result; do not let EventSource reconnect
    setLive(id, false);
  });
  source.onerror = () => {
    source.close();
    setLive(id, false);
    streams.delete(id); // the next refresh opens a new stream if the job is still unfinished
  };
}

/** Marks a row as fed by its event stream (the dot before the state). */
function setLive(id, live) {
  const row = document.getElementById("job-" + id);
  if (row) {
    row.dataset.live = live;
  }
}

function render(job) {
  const body = document.querySelector("#jobs tbody");
  let row = document.getElementById("job-" + job.id);
  if (!row) {
    row = document.createElement("tr");
    row.id = "job-" + job.id;
    row.innerHTML = '<td class="id"></td><td class="endpoints"></td><td><span class="state"></span></td>'
      + '<td><div class="bar"><div class="fill"></div></div><div class="detail"></div><div class="error"></div></td>'
      + '<td class="throughput"></td><td class="actions"></td>';
    row.querySelector(".id").textContent = job.id;
    row.querySelector(".endpoints").textContent = job.source + " \u2192 " + job.target;
    body.prepend(row);
  }
  row.className = job.state;
  row.querySelector(".state").textContent = job.state;
  const percent = Math.round(job.fraction * 1000) / 10;
  const fill = row.querySelector(".fill");
  fill.style.width = percent + "%";
  fill.dataset.fraction = job.fraction;
  row.querySelector(".detail").textContent = percent + "% \u2014 " + bytes(job.done_bytes)
    + (job.size >= 0 ? " of " + bytes(job.size) : "")
    + " (data " + bytes(job.data_bytes) + ", zeroed " + bytes(job.zeroed_bytes)
    + ", skipped " + bytes(job.skipped_bytes)
    + (job.resumed_bytes > 0 ? ", resumed " + bytes(job.resumed_bytes) : "") + ")";
  row.querySelector(".error").textContent = job.error || "";
  row.querySelector(".throughput").textContent = job.bytes_per_second > 0 ? bytes(job.bytes_per_second) + "/s" : "";
  const actions = row.querySelector(".actions");
  if (TERMINAL.has(job.state)) {
    actions.textContent = "";
  } else if (!actions.firstChild) {
    const cancel = document.createElement("button");
    cancel.textContent = "Cancel";
    cancel.className = "cancel";
    cancel.addEventListener("click", () => fetch("/v1/copies/" + encodeURIComponent(job.id),
      { method: "DELETE", headers: { "Authorization": "Bearer " + token } }).then(refresh));
    actions.append(cancel);
  }
}

function summary(jobs) {
  const counts = {};
  for (const j of jobs) {
    counts[j.state] = (counts[j.state] || 0) + 1;
  }
  document.getElementById("summary").textContent =
    Object.entries(counts).map(([state, n]) => n + " " + state).join(" \u00b7 ");
}

function bytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return (i === 0 ? n : n.toFixed(1)) + " " + units[i];
}

function message(text) {
  document.getElementById("message").textContent = text;
}

init();
