// The lineage page. Data comes from the JSON API next to it (api/<view>); everything the API returns is
// untrusted text (artifact names, partition values, inputs, log lines) and reaches the page only through
// textContent and setAttribute: nothing the API returns ever goes through the HTML parser.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const NODE_W = 260, NODE_H = 46, COL_GAP = 40, ROW_GAP = 44, PAD = 16, SKIP_ROOM = 170;

// -- small DOM builders ----------------------------------------------------------------------------
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  }
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(c == null ? "" : String(c)));
  return el;
}

function s(tag, attrs, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }

function fit(text, max) { return text.length > max ? text.slice(0, max - 1) + "…" : text; }

function partitionsText(partitions, timePartition) {
  const parts = Object.keys(partitions || {}).sort().map((k) => `${k}=${partitions[k]}`);
  if (timePartition) parts.push(timePartition.slice(0, 10));
  return parts.join(", ");
}

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
  return { artifact: q.get("artifact"), version: q.get("version"), execution: q.get("execution") };
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
    const el = link({ artifact: a.name }, a.name, sub);
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
  if (!rows.length) tbody.append(h("tr", {}, h("td", { colspan: 6, class: "muted" }, "no executions yet")));
  for (const r of rows) {
    const trig = r.triggered_by ? `${r.triggered_by.artifact}:${r.triggered_by.version}` : "-";
    const tr = h("tr", { "data-execution": r.id },
      h("td", {}, r.started_at || "-"),
      h("td", {}, shortWorkflow(r.workflow)),
      h("td", {}, r.launch_plan || "-"),
      h("td", { class: `status-${r.status}` }, r.status),
      h("td", {}, trig),
      h("td", {}, r.duration_s == null ? "-" : r.duration_s.toFixed(2)));
    if (r.id === selected) tr.classList.add("selected");
    tr.addEventListener("click", () => navigate({ execution: r.id }));
    tbody.append(tr);
  }
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
  add("triggered by", row.triggered_by ? `${row.triggered_by.artifact}:${row.triggered_by.version}` : "-");
  add("started", row.started_at);
  add("seconds", row.duration_s == null ? "-" : row.duration_s.toFixed(3));
  if (row.error) add("error", `${row.error}: ${row.cause || ""}`);
  box.append(dl,
    h("h3", {}, "inputs"), h("pre", { id: "execution-inputs" }, JSON.stringify(row.inputs, null, 2)),
    h("h3", {}, "task output"), h("pre", { id: "logs" }, lines.length ? lines.join("\n") : "(nothing printed)"));
}

// -- the graph ---------------------------------------------------------------------------------------
function layout(graph) {
  // Rows come from the server (longest-path layers: every edge points down). Within a row, order nodes by
  // the mean position of their predecessors, which keeps most edges from crossing.
  const rows = new Map();
  for (const n of graph.nodes) {
    if (!rows.has(n.layer)) rows.set(n.layer, []);
    rows.get(n.layer).push(n);
  }
  const preds = new Map(graph.nodes.map((n) => [n.id, []]));
  for (const e of graph.edges) preds.get(e.target).push(e.source);
  const slot = new Map();
  const layers = [...rows.keys()].sort((a, b) => a - b);
  for (const layer of layers) {
    const nodes = rows.get(layer);
    const weight = (n) => {
      const at = preds.get(n.id).filter((p) => slot.has(p)).map((p) => slot.get(p));
      return at.length ? at.reduce((a, b) => a + b, 0) / at.length : 0;
    };
    nodes.sort((a, b) => weight(a) - weight(b) || a.label.localeCompare(b.label));
    nodes.forEach((n, i) => slot.set(n.id, i));
  }
  const across = Math.max(...layers.map((l) => rows.get(l).length));
  const pos = new Map();
  layers.forEach((layer, ri) => {
    const nodes = rows.get(layer);
    const offset = ((across - nodes.length) * (NODE_W + COL_GAP)) / 2;
    nodes.forEach((n, ci) => pos.set(n.id, { x: PAD + offset + ci * (NODE_W + COL_GAP), y: PAD + ri * (NODE_H + ROW_GAP), row: ri }));
  });
  // Room on the right for edges that skip rows (drawn around the nodes they pass).
  return { pos, width: PAD * 2 + across * NODE_W + (across - 1) * COL_GAP + SKIP_ROOM,
           height: PAD * 2 + layers.length * NODE_H + (layers.length - 1) * ROW_GAP };
}

function renderGraph(graph) {
  const box = document.getElementById("graph");
  clear(box);
  if (!graph) { box.append(h("p", { class: "muted" }, "Choose an artifact.")); return; }
  const { pos, width, height } = layout(graph);
  const svg = s("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "lineage graph" });
  const defs = s("defs");
  const marker = s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
  marker.append(s("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#8a93a6" }));
  defs.append(marker);
  svg.append(defs);
  // One drawn edge per (source, target): a run both triggered by and reading a version gets one arrow.
  const pairs = new Map();
  for (const e of graph.edges) {
    const key = `${e.source}\n${e.target}`;
    if (!pairs.has(key)) pairs.set(key, []);
    pairs.get(key).push(e);
  }
  const edges = s("g", { class: "edges" });
  for (const group of pairs.values()) {
    const { source, target } = group[0];
    const kinds = [...new Set(group.map((e) => e.kind))].sort();
    const main = kinds.includes("trigger") ? "trigger" : kinds[0];
    const inputs = [...new Set(group.filter((e) => e.input).map((e) => e.input))];
    const words = [];
    if (kinds.includes("output")) words.push("made");
    if (kinds.includes("trigger")) words.push("triggered");
    if (kinds.includes("input") || inputs.length) words.push(inputs.length ? `read as ${inputs.join(", ")}` : "read");
    const a = pos.get(source), b = pos.get(target);
    const x1 = a.x + NODE_W / 2, y1 = a.y + NODE_H, x2 = b.x + NODE_W / 2, y2 = b.y;
    let d;
    if (b.row - a.row > 1) { // skips rows: leave the source on its right, come back into the target's right
      const side = Math.max(a.x, b.x) + NODE_W + 30 + 12 * (b.row - a.row);
      d = `M ${a.x + NODE_W} ${a.y + NODE_H / 2} C ${side} ${a.y + NODE_H / 2}, ${side} ${b.y + NODE_H / 2}, ${b.x + NODE_W} ${b.y + NODE_H / 2}`;
    } else {
      const mid = (y1 + y2) / 2;
      d = `M ${x1} ${y1} C ${x1} ${mid}, ${x2} ${mid}, ${x2} ${y2}`;
    }
    const g = s("g", { class: "edge-group", "data-source": source, "data-target": target, "data-kinds": kinds.join(" ") });
    g.append(s("path", { class: `edge ${main}`, d, "marker-end": "url(#arrow)" }));
    const lx = b.row - a.row > 1 ? Math.max(a.x, b.x) + NODE_W + 18 : (x1 + x2) / 2 + 8;
    const ly = b.row - a.row > 1 ? b.y + NODE_H / 2 - 10 : (y1 + y2) / 2 + 4;
    g.append(s("text", { class: "edge-label", x: lx, y: ly }, fit(words.join(" · "), 28)));
    edges.append(g);
  }
  svg.append(edges);
  const nodes = s("g", { class: "nodes" });
  for (const n of graph.nodes) {
    const p = pos.get(n.id);
    const cls = ["node", n.kind, n.status || "", n.id === graph.root ? "root" : ""].join(" ").trim();
    const g = s("g", { class: cls, "data-node-id": n.id, "data-kind": n.kind, transform: `translate(${p.x} ${p.y})`, tabindex: 0 });
    g.append(s("title", {}, n.kind === "version" ? `${n.artifact}:${n.version}` : `${n.workflow} · ${n.execution}`));
    g.append(s("rect", { width: NODE_W, height: NODE_H, rx: n.kind === "version" ? 10 : 3 }));
    let title, sub;
    if (n.kind === "version") {
      title = `${n.artifact}  ${partitionsText(n.partitions, n.time_partition)}`;
      sub = n.version;
    } else {
      title = `${shortWorkflow(n.workflow)}${n.launch_plan ? " (" + n.launch_plan + ")" : ""}`;
      sub = `${n.status || "?"}${n.duration_s == null ? "" : " · " + n.duration_s.toFixed(2) + " s"}`;
    }
    g.append(s("text", { x: 10, y: 18 }, fit(title, 38)), s("text", { class: "sub", x: 10, y: 36 }, fit(sub, 40)));
    const go = () => n.kind === "version" ? navigate({ artifact: n.artifact, version: n.version }) : navigate({ execution: n.execution });
    g.addEventListener("click", go);
    g.addEventListener("keydown", (ev) => { if (ev.key === "Enter") go(); });
    nodes.append(g);
  }
  svg.append(nodes);
  box.append(svg);
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
    const [artifacts, executions] = await Promise.all([api("artifacts"), api("executions", { limit: 100 })]);
    const name = state.artifact || (artifacts[0] && artifacts[0].name) || null;
    let versions = [], graph = null, detail = null, version = state.version;
    if (name) {
      versions = await api("versions", { artifact: name });
      version = version || (versions[0] && versions[0].version) || null;
      if (version) [graph, detail] = await Promise.all([api("lineage", { artifact: name, version }), api("version", { artifact: name, version })]);
    }
    let execution = null, lines = [];
    if (state.execution) {
      [execution, { lines }] = await Promise.all([api("execution", { execution: state.execution }), api("logs", { execution: state.execution })]);
    }
    if (mine !== generation) return; // a newer navigation owns the page
    renderArtifacts(artifacts, name);
    renderVersions(name, versions, version);
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
