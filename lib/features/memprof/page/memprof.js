// The wrapp memprof page: a flame graph and an expandable call tree of live memory,
// fetched from the same server (/v1/tree, /v1/status) and refreshed while the profiled
// process runs. No library, no network access beyond that server. Function names are
// only ever written with textContent: C++ names contain "<" and ">".
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const ROW = 18;
const COLORS = {
  nodeCpp: "var(--own)",
  nodeRust: "var(--rust)",
  systemLib: "var(--system)",
  unknown: "var(--unknown)",
};

const state = {
  threshold: 256,
  reverse: false,
  search: "",
  paused: false,
  /** @type {any} */ tree: null,
  /** @type {any} */ status: null,
  /** Keys from the root to the zoomed node. @type {string[]} */ focus: [],
  /** Paths (keys joined by "/") of expanded tree rows. */ expanded: new Set(),
  /** Whether the tree was expanded automatically once. */ autoExpanded: false,
  /** @type {number | undefined} */ timer: undefined,
  error: "",
};

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** A stable key for a node among its siblings. */
function nodeKey(node) {
  if (!node.name) return "root";
  if (typeof node.name === "string") return `#${node.name}`;
  return `${node.name.executable}:${node.name.offset}:${node.name.functionName ?? ""}`;
}

/** What a node is called on screen. */
function label(node) {
  if (!node.name) return "all";
  if (node.name === "underThreshold") return "(below threshold)";
  if (node.name === "unknown") return "(allocated here / stack ends)";
  return node.name.functionName ?? `${node.name.executable}+0x${node.name.offset}`;
}

/** "file+0xoffset" of a function node, "" for the others. */
function where(node) {
  if (!node.name || typeof node.name === "string") return "";
  return `${node.name.executable}+0x${node.name.offset}`;
}

function color(node) {
  if (!node.name || typeof node.name === "string") return "var(--summary)";
  return COLORS[node.name.functionCategory] ?? "var(--unknown)";
}

function formatKb(kb) {
  if (kb === undefined || kb === null) return "–";
  if (Math.abs(kb) >= 1048576) return `${(kb / 1048576).toFixed(2)} GiB`;
  if (Math.abs(kb) >= 1024) return `${(kb / 1024).toFixed(1)} MiB`;
  return `${kb} kB`;
}

function percent(part, whole) {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : "–";
}

function matches(node) {
  if (!state.search) return false;
  const needle = state.search.toLowerCase();
  return label(node).toLowerCase().includes(needle) || where(node).toLowerCase().includes(needle);
}

/** Whether the node or a node below it matches the search. */
function containsMatch(node) {
  return matches(node) || node.frames.some(containsMatch);
}

/** kB of the outermost matching nodes (a match inside a match counts once). */
function matchedKb(node) {
  if (matches(node)) return node.value;
  return node.frames.reduce((sum, child) => sum + matchedKb(child), 0);
}

async function fetchJson(path) {
  const response = await fetch(path, { cache: "no-store" });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return await response.json();
}

async function refresh() {
  try {
    const query = `threshold=${state.threshold}&reverse=${state.reverse}`;
    const [tree, status] = await Promise.all([
      fetchJson(`v1/tree?${query}`),
      fetchJson("v1/status"),
    ]);
    state.tree = tree;
    state.status = status;
    state.error = "";
  } catch (error) {
    state.error = `Cannot reach wrapp: ${error.message}`;
  }
  render();
  schedule();
}

function schedule() {
  clearTimeout(state.timer);
  const ended = state.status && state.status.state !== "running";
  if (state.paused || ended) return;
  const period = Math.max(1000, state.status?.periodMs ?? 1000);
  state.timer = setTimeout(refresh, period);
}

function render() {
  renderStatus();
  if (!state.tree) return;
  renderFlame();
  renderTree();
  const match = $("match");
  if (state.search) {
    const kb = matchedKb(state.tree);
    match.textContent = `matches hold ${formatKb(kb)} (${percent(kb, state.tree.value)})`;
  } else {
    match.textContent = "";
  }
}

function renderStatus() {
  const s = state.status;
  const summary = $("summary");
  const warnings = $("warnings");
  warnings.replaceChildren();
  const warn = (text) => {
    const div = document.createElement("div");
    div.className = "warning";
    div.textContent = text;
    warnings.append(div);
  };
  if (state.error) warn(state.error);
  if (!s) return;
  $("title").textContent = `— pid ${s.pid}${s.command ? ` (${s.command})` : ""}`;
  document.title = `memprof ${s.pid} ${s.command ?? ""}`;
  const a = s.attributed;
  const [elapsed, updated] = [Math.round(s.elapsedMs / 1000), new Date(s.updatedAt)];
  const [resident, cache] = [formatKb(a.residentKb), formatKb(a.cacheKb)];
  const lines = [
    `${s.state}${s.exit ? ` (${s.exit})` : ""}, profiled for ${elapsed} s; ` +
    `updated ${updated.toLocaleTimeString()}`,
    `Attributed to call stacks: ${resident} resident + ${cache} page cache, ${a.stacks} stacks`,
  ];
  if (s.process) {
    const share = percent(a.residentKb, s.process.rssKb);
    lines.push(
      `Process RSS ${formatKb(s.process.rssKb)} (anonymous ${formatKb(s.process.anonKb)}, ` +
        `files ${formatKb(s.process.fileKb)}); attributed ${share} of it`,
    );
  }
  if (s.atAttach) {
    lines.push(
      `Resident before attaching (not attributable): ${formatKb(s.atAttach.rssKb)}; ` +
        `not attributed now: ${formatKb(s.unattributedKb)}`,
    );
  }
  lines.push(`Lost: ${s.lost.pages} pages (table full), ${s.lost.events} events`);
  summary.replaceChildren(...lines.map((text) => {
    const div = document.createElement("div");
    div.textContent = text;
    return div;
  }));
  if (s.frozen) {
    warn("The process started exiting: the numbers are those from just before its exit.");
  }
  if (s.lost.pages > 0) warn(`${s.lost.pages} pages were not recorded: raise --max-pages.`);
  const attributedKb = a.residentKb + a.cacheKb;
  if (s.shallowKb > 0 && attributedKb > 0 && s.shallowKb / attributedKb > 0.2) {
    warn(
      `${percent(s.shallowKb, attributedKb)} of the memory has stacks of 2 frames or fewer: ` +
        "stacks are unwound by frame pointers; build with -fno-omit-frame-pointer.",
    );
  }
}

/** The node at the end of the focus path (the path is cut where a key no longer exists). */
function focusedNode() {
  let node = state.tree;
  const path = [];
  for (const key of state.focus) {
    const child = node.frames.find((f) => nodeKey(f) === key);
    if (!child) break;
    node = child;
    path.push(key);
  }
  state.focus = path;
  return node;
}

function renderFlame() {
  const container = $("flame");
  const width = container.clientWidth || 1000;
  const root = focusedNode();
  const rects = [];
  let depth = 0;
  const layout = (node, x, w, d, path) => {
    if (w < 0.5) return;
    rects.push({ node, x, w, d, path });
    depth = Math.max(depth, d + 1);
    let childX = x;
    for (const child of node.frames) {
      const childW = node.value > 0 ? (w * child.value) / node.value : 0;
      layout(child, childX, childW, d + 1, [...path, nodeKey(child)]);
      childX += childW;
    }
  };
  layout(root, 0, width, 0, [...state.focus]);
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${depth * ROW}`);
  svg.setAttribute("height", String(depth * ROW));
  const total = state.tree.value;
  for (const { node, x, w, d, path } of rects) {
    const g = document.createElementNS(SVG, "g");
    const rect = document.createElementNS(SVG, "rect");
    rect.setAttribute("x", String(x));
    rect.setAttribute("y", String(d * ROW));
    rect.setAttribute("width", String(Math.max(w, 0.5)));
    rect.setAttribute("height", String(ROW - 1));
    rect.style.fill = matches(node) ? "var(--match)" : color(node);
    g.append(rect);
    if (node.cacheValue > 0 && node.value > 0) {
      // The page-cache share of the frame, as a strip along its bottom.
      const strip = document.createElementNS(SVG, "rect");
      strip.setAttribute("x", String(x));
      strip.setAttribute("y", String(d * ROW + ROW - 4));
      strip.setAttribute("width", String((w * node.cacheValue) / node.value));
      strip.setAttribute("height", "3");
      strip.style.fill = "var(--cache)";
      strip.style.stroke = "none";
      g.append(strip);
    }
    const chars = Math.floor((w - 6) / 6.5);
    if (chars >= 3) {
      const text = document.createElementNS(SVG, "text");
      text.setAttribute("x", String(x + 3));
      text.setAttribute("y", String(d * ROW + ROW - 5));
      const name = label(node);
      text.textContent = name.length > chars ? `${name.slice(0, chars - 1)}…` : name;
      g.append(text);
    }
    g.addEventListener("click", () => {
      state.focus = path;
      render();
    });
    g.addEventListener("mousemove", (event) => showTooltip(event, node, total));
    g.addEventListener("mouseleave", () => ($("tooltip").hidden = true));
    svg.append(g);
  }
  container.replaceChildren(svg);
  $("breadcrumb").textContent = state.focus.length > 0 ? `zoomed into ${label(root)}` : "";
}

function showTooltip(event, node, total) {
  const tip = $("tooltip");
  const lines = [label(node)];
  if (where(node)) lines.push(where(node));
  const [kb, share] = [formatKb(node.value), percent(node.value, total)];
  lines.push(`${kb} (${share}), page cache ${formatKb(node.cacheValue)}`);
  tip.textContent = lines.join("\n");
  tip.hidden = false;
  tip.style.left = `${event.clientX + 12}px`;
  tip.style.top = `${event.clientY + 12}px`;
}

/** Expand the big branches once, so the first view shows where the memory is. */
function autoExpand(node, path, depth) {
  const total = state.tree.value;
  if (depth > 40) return;
  state.expanded.add(path);
  for (const child of node.frames) {
    if (typeof child.name !== "string" && child.value >= total * 0.05) {
      autoExpand(child, `${path}/${nodeKey(child)}`, depth + 1);
    }
  }
}

function renderTree() {
  const container = $("tree");
  const total = state.tree.value;
  if (!state.autoExpanded && total > 0) {
    autoExpand(state.tree, "root", 0);
    state.autoExpanded = true;
  }
  const rows = [];
  const searching = state.search !== "";
  const walk = (node, path, depth) => {
    for (const child of node.frames) {
      if (searching && !containsMatch(child)) continue;
      const childPath = `${path}/${nodeKey(child)}`;
      const open = searching || state.expanded.has(childPath);
      rows.push(row(child, childPath, depth, open, total));
      if (open) walk(child, childPath, depth + 1);
    }
  };
  walk(state.tree, "root", 0);
  if (rows.length === 0) {
    const empty = document.createElement("div");
    empty.textContent = searching ? "No function matches." : "No memory attributed yet.";
    rows.push(empty);
  }
  container.replaceChildren(...rows);
}

function row(node, path, depth, open, total) {
  const div = document.createElement("div");
  div.className = matches(node) ? "row hit" : "row";
  div.setAttribute("role", "treeitem");
  const name = document.createElement("span");
  name.className = "name";
  name.style.paddingLeft = `${depth * 14}px`;
  const toggle = document.createElement("button");
  toggle.type = "button";
  if (node.frames.length > 0) {
    toggle.textContent = open ? "▾" : "▸";
    toggle.setAttribute("aria-label", open ? "collapse" : "expand");
    toggle.addEventListener("click", () => {
      if (state.expanded.has(path)) state.expanded.delete(path);
      else state.expanded.add(path);
      renderTree();
    });
  }
  const dot = document.createElement("span");
  dot.className = "dot";
  dot.style.background = color(node);
  const text = document.createElement("span");
  text.className = "label";
  text.textContent = label(node);
  text.title = label(node);
  const place = document.createElement("span");
  place.className = "where";
  place.textContent = where(node);
  name.append(toggle, dot, text, place);
  const cell = (value) => {
    const span = document.createElement("span");
    span.className = "num";
    span.textContent = value;
    return span;
  };
  div.append(
    name,
    cell(formatKb(node.value)),
    cell(formatKb(node.cacheValue)),
    cell(percent(node.value, total)),
  );
  return div;
}

function init() {
  const params = new URLSearchParams(location.search);
  if (params.has("threshold")) state.threshold = Math.max(0, Number(params.get("threshold")) || 0);
  state.reverse = params.get("reverse") === "true";
  state.search = params.get("search") ?? "";
  $("threshold").value = String(state.threshold);
  $("reverse").checked = state.reverse;
  $("search").value = state.search;
  $("search").addEventListener("input", (event) => {
    state.search = event.target.value.trim();
    render();
  });
  $("threshold").addEventListener("change", (event) => {
    state.threshold = Math.max(0, Number(event.target.value) || 0);
    refresh();
  });
  $("reverse").addEventListener("change", (event) => {
    state.reverse = event.target.checked;
    state.focus = [];
    state.expanded.clear();
    state.autoExpanded = false;
    refresh();
  });
  $("pause").addEventListener("change", (event) => {
    state.paused = event.target.checked;
    if (!state.paused) refresh();
    else clearTimeout(state.timer);
  });
  $("reset").addEventListener("click", () => {
    state.focus = [];
    render();
  });
  addEventListener("resize", () => state.tree && renderFlame());
  refresh();
}

init();
