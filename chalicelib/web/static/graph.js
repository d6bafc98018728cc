// The lineage graph: a layered layout (columns left to right, as data flows) and an SVG view that pans
// (drag) and zooms (wheel, or the buttons). Every label is set with textContent; nothing here parses HTML.
"use strict";

(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const NODE_W = 210, NODE_H = 46, COL_GAP = 84, ROW_GAP = 16, PAD = 20, SWEEPS = 8;
  const MIN_ZOOM = 0.08, MAX_ZOOM = 3, READABLE = 0.7, LABELS_UP_TO = 40;

  function s(tag, attrs, text) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function fit(text, max) { return text.length > max ? text.slice(0, max - 1) + "…" : text; }

  // Columns are the server's layers (every edge points right). Within a column, nodes are ordered by the
  // mean position of their neighbours, sweeping right then left a few times (fewer crossings), then each
  // node is placed as close to its predecessors' height as the nodes above it allow.
  function layout(graph) {
    const cols = new Map();
    for (const n of graph.nodes) {
      if (!cols.has(n.layer)) cols.set(n.layer, []);
      cols.get(n.layer).push(n);
    }
    const layers = [...cols.keys()].sort((a, b) => a - b);
    const preds = new Map(graph.nodes.map((n) => [n.id, []]));
    const succs = new Map(graph.nodes.map((n) => [n.id, []]));
    for (const e of graph.edges) {
      if (preds.has(e.target) && succs.has(e.source)) { preds.get(e.target).push(e.source); succs.get(e.source).push(e.target); }
    }
    const rank = new Map();
    const place = (nodes) => nodes.forEach((n, i) => rank.set(n.id, i - (nodes.length - 1) / 2));
    for (const l of layers) {
      cols.get(l).sort((a, b) => a.label.localeCompare(b.label));
      place(cols.get(l));
    }
    const mean = (ids) => {
      const at = ids.filter((id) => rank.has(id)).map((id) => rank.get(id));
      return at.length ? at.reduce((a, b) => a + b, 0) / at.length : null;
    };
    for (let sweep = 0; sweep < SWEEPS; sweep++) {
      const order = sweep % 2 === 0 ? layers.slice(1) : layers.slice(0, -1).reverse();
      const near = sweep % 2 === 0 ? preds : succs;
      for (const l of order) {
        const nodes = cols.get(l);
        const key = new Map(nodes.map((n) => [n.id, mean(near.get(n.id)) ?? rank.get(n.id)]));
        nodes.sort((a, b) => key.get(a.id) - key.get(b.id) || a.label.localeCompare(b.label));
        place(nodes);
      }
    }
    const pos = new Map();
    const step = NODE_H + ROW_GAP;
    layers.forEach((l, ci) => {
      const nodes = cols.get(l);
      const want = nodes.map((n) => {
        const ys = preds.get(n.id).filter((p) => pos.has(p)).map((p) => pos.get(p).y);
        return ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : null;
      });
      let y = -Infinity;
      const ys = nodes.map((n, i) => (y = Math.max(want[i] ?? (y === -Infinity ? 0 : y + step), y + step)));
      // shift the column back up by the mean push-down, so one crowded column does not drift down
      const pushed = ys.map((v, i) => v - (want[i] ?? v));
      const lift = pushed.length ? pushed.reduce((a, b) => a + b, 0) / pushed.length / 2 : 0;
      nodes.forEach((n, i) => pos.set(n.id, { x: PAD + ci * (NODE_W + COL_GAP), y: ys[i] - lift, col: ci }));
    });
    const top = Math.min(...[...pos.values()].map((p) => p.y));
    for (const p of pos.values()) p.y += PAD - top;
    const width = PAD * 2 + layers.length * NODE_W + Math.max(0, layers.length - 1) * COL_GAP;
    const height = PAD * 2 + Math.max(...[...pos.values()].map((p) => p.y - PAD)) + NODE_H;
    return { pos, width, height };
  }

  function edgeWords(group) {
    const kinds = [...new Set(group.map((e) => e.kind))].sort();
    const inputs = [...new Set(group.filter((e) => e.input).map((e) => e.input))];
    const words = [];
    if (kinds.includes("output")) words.push("made");
    if (kinds.includes("trigger")) words.push("triggered");
    if (kinds.includes("input") || inputs.length) words.push(inputs.length ? `read as ${inputs.join(", ")}` : "read");
    return { kinds, words: words.join(" · ") };
  }

  // Draws `graph` into `box`: `label(node)` gives [title, subtitle]; `onNode(node)` runs on click or Enter.
  function draw(box, graph, label, onNode) {
    const { pos, width, height } = layout(graph);
    const frame = document.createElement("div");
    frame.className = "graph-frame";
    const tools = document.createElement("div");
    tools.className = "graph-tools";
    const svg = s("svg", { class: "graph-view", role: "img", "aria-label": "lineage graph",
                           "data-width": Math.round(width), "data-height": Math.round(height) });
    const defs = s("defs");
    const marker = s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
    marker.append(s("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#8a93a6" }));
    defs.append(marker);
    svg.append(defs);
    const view = s("g", { class: "viewport" });
    svg.append(view);

    const pairs = new Map(); // one drawn edge per (source, target): triggered-and-read is one arrow
    for (const e of graph.edges) {
      if (!pos.has(e.source) || !pos.has(e.target)) continue;
      const key = `${e.source}\n${e.target}`;
      if (!pairs.has(key)) pairs.set(key, []);
      pairs.get(key).push(e);
    }
    const edges = s("g", { class: "edges" });
    for (const group of pairs.values()) {
      const { source, target } = group[0];
      const { kinds, words } = edgeWords(group);
      const main = kinds.includes("trigger") ? "trigger" : kinds[0];
      const a = pos.get(source), b = pos.get(target);
      const x1 = a.x + NODE_W, y1 = a.y + NODE_H / 2, x2 = b.x, y2 = b.y + NODE_H / 2, bend = Math.max(40, (x2 - x1) / 2);
      const g = s("g", { class: "edge-group", "data-source": source, "data-target": target, "data-kinds": kinds.join(" ") });
      g.append(s("title", {}, words));
      g.append(s("path", { class: `edge ${main}`, d: `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}`, "marker-end": "url(#arrow)" }));
      if (pairs.size <= LABELS_UP_TO) g.append(s("text", { class: "edge-label", x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 5, "text-anchor": "middle" }, fit(words, 16)));
      edges.append(g);
    }
    view.append(edges);

    let dragged = false;
    const nodes = s("g", { class: "nodes" });
    for (const n of graph.nodes) {
      const p = pos.get(n.id);
      const cls = ["node", n.kind, n.status || "", n.id === graph.root ? "root" : ""].join(" ").trim();
      const g = s("g", { class: cls, "data-node-id": n.id, "data-kind": n.kind, transform: `translate(${p.x} ${p.y})`, tabindex: 0 });
      const [title, sub] = label(n);
      g.append(s("title", {}, `${title}\n${sub}`));
      g.append(s("rect", { width: NODE_W, height: NODE_H, rx: n.kind === "version" ? 10 : 3 }));
      g.append(s("text", { x: 10, y: 18 }, fit(title, 30)), s("text", { class: "sub", x: 10, y: 36 }, fit(sub, 33)));
      g.addEventListener("click", () => { if (!dragged) onNode(n); });
      g.addEventListener("keydown", (ev) => { if (ev.key === "Enter") onNode(n); });
      nodes.append(g);
    }
    view.append(nodes);

    // -- pan and zoom: the viewport group's transform --------------------------------------------------
    const state = { k: 1, x: 0, y: 0 };
    const apply = () => {
      view.setAttribute("transform", `translate(${state.x.toFixed(1)} ${state.y.toFixed(1)}) scale(${state.k.toFixed(4)})`);
      svg.setAttribute("data-zoom", state.k.toFixed(3));
    };
    const size = () => ({ w: svg.clientWidth || box.clientWidth || 800, h: svg.clientHeight || 400 });
    const zoomAt = (factor, cx, cy) => {
      const k = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, state.k * factor));
      state.x = cx - (cx - state.x) * (k / state.k);
      state.y = cy - (cy - state.y) * (k / state.k);
      state.k = k;
      apply();
    };
    const fitAll = () => {
      const { w, h } = size();
      state.k = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, Math.min(w / width, h / height, 1)));
      state.x = (w - width * state.k) / 2;
      state.y = (h - height * state.k) / 2;
      apply();
    };
    const showRoot = () => { // readable first: zoom in no further than 1, out no further than READABLE
      const { w, h } = size();
      state.k = Math.min(1, Math.max(READABLE, Math.min(w / width, h / height)));
      const r = pos.get(graph.root);
      // the root in the middle, without leaving empty room past either end of the graph
      const clamp = (v, room, size_) => Math.max(room - size_ * state.k, Math.min(0, v));
      state.x = width * state.k <= w ? (w - width * state.k) / 2 : clamp(w / 2 - (r.x + NODE_W / 2) * state.k, w, width);
      state.y = height * state.k <= h ? (h - height * state.k) / 2 : clamp(h / 2 - (r.y + NODE_H / 2) * state.k, h, height);
      apply();
    };
    svg.addEventListener("wheel", (ev) => {
      ev.preventDefault();
      const box_ = svg.getBoundingClientRect();
      zoomAt(Math.exp(-ev.deltaY * 0.0015), ev.clientX - box_.left, ev.clientY - box_.top);
    }, { passive: false });
    let start = null;
    svg.addEventListener("pointerdown", (ev) => { start = { x: ev.clientX, y: ev.clientY, sx: state.x, sy: state.y }; dragged = false; });
    svg.addEventListener("pointermove", (ev) => {
      if (!start) return;
      const dx = ev.clientX - start.x, dy = ev.clientY - start.y;
      if (!dragged && Math.hypot(dx, dy) < 4) return;
      if (!dragged) svg.setPointerCapture(ev.pointerId);
      dragged = true;
      svg.classList.add("panning");
      state.x = start.sx + dx; state.y = start.sy + dy;
      apply();
    });
    const end = () => { start = null; svg.classList.remove("panning"); setTimeout(() => { dragged = false; }, 0); };
    svg.addEventListener("pointerup", end);
    svg.addEventListener("pointercancel", end);

    const button = (text, title, action, name) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = text;
      b.title = title;
      b.setAttribute("data-action", name);
      b.addEventListener("click", action);
      tools.append(b);
    };
    button("+", "zoom in", () => { const { w, h } = size(); zoomAt(1.25, w / 2, h / 2); }, "zoom-in");
    button("−", "zoom out", () => { const { w, h } = size(); zoomAt(0.8, w / 2, h / 2); }, "zoom-out");
    button("fit", "show the whole graph", fitAll, "fit");
    button("root", "back to the chosen version, readable", showRoot, "root");
    const hint = document.createElement("span");
    hint.className = "muted";
    hint.textContent = `${graph.nodes.length} nodes · drag to pan, wheel to zoom`;
    tools.append(hint);

    frame.append(tools, svg);
    box.append(frame);
    // as tall as the graph needs, up to most of the window (then pan)
    svg.style.height = `${Math.max(160, Math.min(height + 8, Math.round(window.innerHeight * 0.7)))}px`;
    showRoot();
    return { layout: pos };
  }

  window.CascadeGraph = { layout, draw, NODE_W, NODE_H };
})();
