// The lineage page. Data comes from the JSON API next to it (api/<view>); everything the API returns is
// untrusted text (artifact names, partition values, inputs, log lines) and reaches the page only through
// textContent and setAttribute: nothing the API returns ever goes through the HTML parser.
"use strict";

// -- small DOM builders ----------------------------------------------------------------------------
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  }
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(c == null ? "" : String(c)));
  return el;
}

function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }

function partitionsText(partitions, timePartition) {
  const parts = Object.keys(partitions || {}).sort().map((k) => `${k}=${partitions[k]}`);
  if (timePartition) parts.push(timeText(timePartition));
  return parts.join(", ");
}

// A time partition as people read it: the day alone at midnight, else the whole UTC time.
function timeText(iso) { return iso && iso.endsWith("T00:00:00Z") ? iso.slice(0, 10) : (iso || ""); }

function shortWorkflow(name) { return (name || "?").split(".").pop(); }

function link(params, ...children) {
  // Same page, new query string: only our own parameter names, values encoded by URLSearchParams.
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const a = h("a", { href: "?" + q.toString() }, ...children);
  a.addEventListener("click", (ev) => { ev.preventDefault(); navigate(params); });
  return a;
}

async function api(view, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v) q.set(k, v);
  const resp = await fetch(`api/${view}?${q.toString()}`, { headers: { Accept: "application/json" } });
  const body = await resp.json();
  if (!resp.ok) throw new Error(body.error || `${view}: HTTP ${resp.status}`);
  return body;
}

// -- state in the URL: ?artifact=&version=&execution= --------------------------------------------------
function current() {
  const q = new URLSearchParams(location.search);
  return { artifact: q.get("artifact"), version: q.get("version"), execution: q.get("execution"), q: q.get("q") };
}

function navigate(change) {
  const next = { ...current(), ...change };
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(next)) if (v) q.set(k, v);
  history.pushState(null, "", "?" + q.toString());
  render();
}

window.addEventListener("popstate", () => render());

// -- panels ------------------------------------------------------------------------------------------
function renderArtifacts(artifacts, selected) {
  const ul = document.getElementById("artifacts");
  clear(ul);
  if (!artifacts.length) ul.append(h("li", { class: "muted" }, "no artifacts yet"));
  for (const a of artifacts) {
    const sub = h("span", { class: "sub" }, `${a.versions} version(s) · newest ${a.latest_created_at}`);
    const el = link({ artifact: a.name, version: null }, a.name, sub);
    if (a.name === selected) el.classList.add("selected");
    el.setAttribute("data-artifact", a.name);
    ul.append(h("li", {}, el));
  }
}

function renderVersions(name, versions, selected) {
  document.getElementById("versions-of").textContent = name ? `of ${name}` : "";
  const ul = document.getElementById("versions");
  clear(ul);
  for (const v of versions) {
    const sub = h("span", { class: "sub" }, partitionsText(v.partitions, v.time_partition) || "no partitions");
    const el = link({ artifact: name, version: v.version }, v.version, sub);
    if (v.version === selected) el.classList.add("selected");
    el.setAttribute("data-version", v.version);
    ul.append(h("li", {}, el));
  }
}

function renderVersionDetail(detail) {
  const box = document.getElementById("version-detail");
  clear(box);
  if (!detail) return;
  const v = detail.version;
  const dl = h("dl", { id: "version-fields" });
  const row = (k, val) => dl.append(h("dt", {}, k), h("dd", {}, val == null || val === "" ? "-" : val));
  row("artifact", v.name);
  row("version", v.version);
  row("partitions", partitionsText(v.partitions));
  row("time partition", v.time_partition);
  row("uri", v.uri);
  row("created", v.created_at);
  const p = detail.produced_by;
  row("produced by", p ? `${shortWorkflow(p.workflow)} · ${p.name} · ${p.status}` : producerText(v.produced_by));
  if (v.card) row("card", typeof v.card === "object" ? (v.card.text ?? JSON.stringify(v.card)) : v.card);
  box.append(h("div", { class: "panel" }, dl));
}

// A version's producer when no execution row describes it: an upload, a manual write, a forgotten execution.
function producerText(p) {
  if (!p) return "unknown producer";
  if (p.kind === "upload") return `upload s3://${p.bucket}/${p.key}` + (p.version_id ? ` (object version ${p.version_id})` : "");
  if (p.kind === "execution") return `execution ${String(p.execution).split(":").pop()}`;
  return `written by ${p.by ?? "hand"}`;
}

function renderExecutions(rows, selected) {
  const tbody = document.querySelector("#executions tbody");
  clear(tbody);
  if (!rows.length) tbody.append(h("tr", {}, h("td", { colspan: 7, class: "muted" }, "no executions yet")));
  for (const r of rows) {
    const trig = r.triggered_by ? `${r.triggered_by.artifact}:${r.triggered_by.version}` : "-";
    const tr = h("tr", { "data-execution": r.id },
      h("td", { class: "nowrap" }, r.started_at || "-"),
      h("td", {}, shortWorkflow(r.workflow)),
      h("td", {}, r.launch_plan || "-"),
      h("td", { class: `nowrap status status-${r.status}` }, r.status),
      h("td", { class: "id" }, trig),
      h("td", { class: "nowrap num" }, r.duration_s == null ? "-" : r.duration_s.toFixed(2)),
      h("td", { class: "id" }, r.name));
    if (r.id === selected) tr.classList.add("selected");
    tr.addEventListener("click", () => navigate({ execution: r.id }));
    tbody.append(tr);
  }
}

// -- an execution's inputs, by type (chalicelib/sdk/literals.py tags) ---------------------------------
function versionLink(artifact, version) {
  return link({ artifact, version, execution: null }, `${artifact}:${version}`);
}

function queryText(q) {
  const parts = Object.keys(q.partitions || {}).sort().map((k) => `${k}=${q.partitions[k]}`);
  if (q.time_partition) parts.push(`time_partition=${timeText(typeof q.time_partition === "object" ? q.time_partition.$datetime : q.time_partition)}`);
  return `${q.artifact}.query(${parts.join(", ")})`;
}

function seconds(total) {
  const t = Math.abs(total), d = Math.floor(t / 86400), hh = Math.floor((t % 86400) / 3600), mm = Math.floor((t % 3600) / 60), ss = t % 60;
  const clock = `${String(hh).padStart(2, "0")}:${String(mm).padStart(2, "0")}:${String(+ss.toFixed(3)).padStart(2, "0")}`;
  return `${total < 0 ? "-" : ""}${d ? d + " d " : ""}${clock}`;
}

// [type, value node] for one input literal; `reads` are the versions the execution read, by input name.
function inputValue(name, value, reads) {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0].startsWith("$")) {
      const body = value[keys[0]];
      switch (keys[0]) {
        case "$datetime": return ["datetime", h("time", { datetime: body }, body)];
        case "$date": return ["date", h("time", { datetime: body }, body)];
        case "$timedelta": return ["timedelta", document.createTextNode(`${seconds(Number(body))} (${body} s)`)];
        case "$artifact": return ["artifact", versionLink(body.name, body.version)];
        case "$query": {
          const got = body.version ? [{ artifact: body.artifact, version: body.version }]
            : reads.filter((e) => e.via === "query" && e.artifact === body.artifact && (!e.input || e.input === name || reads.filter((r) => r.artifact === body.artifact).length === 1));
          const span = h("span", {}, queryText(body), " → ");
          if (got.length) got.forEach((e, i) => { if (i) span.append(", "); span.append(versionLink(e.artifact, e.version)); });
          else span.append(h("span", { class: "muted" }, "not resolved yet"));
          return ["query", span];
        }
        case "$file": return ["file", document.createTextNode(body.uri)];
        case "$dir": return ["directory", document.createTextNode(body.uri)];
        case "$ref": return [`data (${body.format})`, document.createTextNode(body.uri)];
        default: break;
      }
    }
  }
  if (typeof value === "string") return ["str", document.createTextNode(value)];
  if (typeof value === "number") return [Number.isInteger(value) ? "int" : "float", document.createTextNode(String(value))];
  if (typeof value === "boolean") return ["bool", document.createTextNode(String(value))];
  if (value === null) return ["none", document.createTextNode("null")];
  return [Array.isArray(value) ? "list" : "dict", h("code", {}, JSON.stringify(value))];
}

function inputsTable(inputs, edges) {
  const reads = (edges || []).filter((e) => e.kind === "input");
  const table = h("table", { id: "execution-inputs", class: "inputs" },
    h("thead", {}, h("tr", {}, h("th", {}, "input"), h("th", {}, "type"), h("th", {}, "value"))));
  const tbody = h("tbody", {});
  const names = Object.keys(inputs || {}).sort();
  if (!names.length) tbody.append(h("tr", {}, h("td", { colspan: 3, class: "muted" }, "(no inputs)")));
  for (const name of names) {
    const [type, node] = inputValue(name, inputs[name], reads);
    tbody.append(h("tr", { "data-input": name, "data-type": type },
      h("td", { class: "nowrap" }, name), h("td", { class: "nowrap muted" }, type), h("td", { class: "value" }, node)));
  }
  table.append(tbody);
  return table;
}

function renderExecution(row, lines) {
  const box = document.getElementById("execution-detail");
  clear(box);
  document.getElementById("execution-title").textContent = row ? row.name : "";
  if (!row) { box.append(h("p", { class: "muted" }, "Choose an execution above or in the graph.")); return; }
  const dl = h("dl", {});
  const add = (k, val) => dl.append(h("dt", {}, k), h("dd", {}, val == null || val === "" ? "-" : val));
  add("workflow", row.workflow);
  add("launch plan", row.launch_plan);
  add("status", row.status);
  add("triggered by", row.triggered_by ? versionLink(row.triggered_by.artifact, row.triggered_by.version) : "-");
  add("started", row.started_at);
  add("stopped", row.stopped_at);
  add("seconds", row.duration_s == null ? "-" : row.duration_s.toFixed(3));
  if (row.error) add("error", `${row.error}: ${row.cause || ""}`);
  box.append(dl, h("h3", {}, "inputs"), inputsTable(row.inputs, row.edges),
    h("h3", {}, "task output"), h("pre", { id: "logs" }, lines.length ? lines.join("\n") : "(nothing printed)"));
}

// -- an artifact's partitions × time partitions, each cell its versions ------------------------------
function renderGrid(name, versions, selected) {
  const box = document.getElementById("grid");
  clear(box);
  document.getElementById("grid-of").textContent = name ? `of ${name} (${versions.length} version(s) shown)` : "";
  if (!versions.length) { box.append(h("p", { class: "muted" }, "no versions")); return; }
  const rowKey = (v) => Object.keys(v.partitions || {}).sort().map((k) => `${k}=${v.partitions[k]}`).join(", ");
  const rows = [...new Set(versions.map(rowKey))].sort();
  const times = [...new Set(versions.map((v) => v.time_partition || ""))].sort();
  const cells = new Map();
  for (const v of versions) { // newest first from the API
    const key = `${rowKey(v)}\n${v.time_partition || ""}`;
    if (!cells.has(key)) cells.set(key, []);
    cells.get(key).push(v);
  }
  const head = h("tr", {}, h("th", {}, "partition"));
  for (const t of times) head.append(h("th", { class: "nowrap" }, t ? timeText(t) : "latest"));
  const table = h("table", { id: "partition-grid", class: "grid" }, h("thead", {}, head));
  const tbody = h("tbody", {});
  for (const r of rows) {
    const tr = h("tr", { "data-partition": r }, h("th", { class: "nowrap" }, r || "(no partitions)"));
    for (const t of times) {
      const here = cells.get(`${r}\n${t}`) || [];
      if (!here.length) { tr.append(h("td", { class: "empty" }, "")); continue; }
      const newest = here[0];
      const a = link({ artifact: name, version: newest.version, execution: null },
        h("span", { class: "cell-time" }, newest.created_at),
        here.length > 1 ? h("span", { class: "cell-count" }, ` ×${here.length}`) : "");
      a.setAttribute("title", `${newest.version}${here.length > 1 ? ` (newest of ${here.length})` : ""}`);
      const td = h("td", { class: "cell", "data-version": newest.version, "data-versions": here.length,
                           "data-time-partition": t }, a);
      if (here.some((v) => v.version === selected)) td.classList.add("selected");
      tr.append(td);
    }
    tbody.append(tr);
  }
  table.append(tbody);
  box.append(table);
}

// -- search ----------------------------------------------------------------------------------------
function renderSearch(results) {
  const box = document.getElementById("search-results");
  clear(box);
  box.hidden = !results;
  if (!results) return;
  const section = (title, items, make) => {
    const ul = h("ul", { class: "list" });
    if (!items.length) ul.append(h("li", { class: "muted" }, "none"));
    for (const item of items) ul.append(h("li", {}, make(item)));
    box.append(h("div", { class: "search-group" }, h("h3", {}, `${title} (${items.length})`), ul));
  };
  box.append(h("p", { class: "muted" }, `matches for “${results.query}”`));
  section("artifacts", results.artifacts, (a) => {
    const el = link({ artifact: a.name, version: null }, a.name, h("span", { class: "sub" }, `${a.versions} version(s)`));
    el.setAttribute("data-artifact", a.name);
    return el;
  });
  section("versions", results.versions, (v) => {
    const el = link({ artifact: v.name, version: v.version }, `${v.name}:${v.version}`,
      h("span", { class: "sub" }, partitionsText(v.partitions, v.time_partition) || "no partitions"));
    el.setAttribute("data-version", v.version);
    return el;
  });
  section("executions", results.executions, (r) => {
    const el = link({ execution: r.id }, r.name, h("span", { class: "sub" }, `${shortWorkflow(r.workflow)} · ${r.status} · ${r.started_at || ""}`));
    el.setAttribute("data-execution", r.id);
    return el;
  });
}

const searchBox = document.getElementById("search");
let searchTimer = null;
searchBox.addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => navigate({ q: searchBox.value.trim() || null }), 300);
});
document.getElementById("search-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  clearTimeout(searchTimer);
  navigate({ q: searchBox.value.trim() || null });
});

// -- the graph (graph.js lays it out and handles pan and zoom) ---------------------------------------
function nodeLabel(n) {
  if (n.kind === "version") return [`${n.artifact}  ${partitionsText(n.partitions, n.time_partition)}`, n.version];
  return [`${shortWorkflow(n.workflow)}${n.launch_plan ? " (" + n.launch_plan + ")" : ""}`,
          `${n.status || "?"}${n.duration_s == null ? "" : " · " + n.duration_s.toFixed(2) + " s"} · ${n.label}`];
}

function renderGraph(graph) {
  const box = document.getElementById("graph");
  clear(box);
  if (!graph) { box.append(h("p", { class: "muted" }, "Choose an artifact.")); return; }
  window.CascadeGraph.draw(box, graph, nodeLabel, (n) =>
    n.kind === "version" ? navigate({ artifact: n.artifact, version: n.version }) : navigate({ execution: n.execution }));
  if (graph.truncated) box.append(h("p", { class: "muted" }, "Graph truncated at its size limit."));
}

// -- putting it together -----------------------------------------------------------------------------
let generation = 0;

async function render() {
  const mine = ++generation;
  const status = document.getElementById("status");
  document.body.removeAttribute("data-ready");
  status.textContent = "loading…";
  status.classList.remove("error");
  try {
    const state = current();
    const [artifacts, executions, results] = await Promise.all([
      api("artifacts"), api("executions", { limit: 100 }), state.q ? api("search", { q: state.q }) : null]);
    const name = state.artifact || (artifacts[0] && artifacts[0].name) || null;
    let versions = [], graph = null, detail = null, version = state.version;
    if (name) {
      versions = await api("versions", { artifact: name, limit: 500 });
      version = version || (versions[0] && versions[0].version) || null;
      if (version) [graph, detail] = await Promise.all([api("lineage", { artifact: name, version }), api("version", { artifact: name, version })]);
    }
    let execution = null, lines = [];
    if (state.execution) {
      [execution, { lines }] = await Promise.all([api("execution", { execution: state.execution }), api("logs", { execution: state.execution })]);
    }
    if (mine !== generation) return; // a newer navigation owns the page
    if (document.activeElement !== searchBox) searchBox.value = state.q || "";
    renderSearch(results);
    renderArtifacts(artifacts, name);
    renderVersions(name, versions.slice(0, 50), version);
    renderGrid(name, versions, version);
    document.getElementById("graph-title").textContent = version ? `${name}:${version}` : "";
    renderGraph(graph);
    renderVersionDetail(detail);
    renderExecutions(executions, state.execution);
    renderExecution(execution, lines);
    status.textContent = `${artifacts.length} artifact(s), ${executions.length} recent execution(s)`;
  } catch (err) {
    if (mine !== generation) return;
    status.textContent = `error: ${err.message}`;
    status.classList.add("error");
  }
  document.body.setAttribute("data-ready", "true");
}

render();
