// What the page shows: the diagram (the service's SVG, made clickable, with each neuron's heat map when there is a
// dataset), the derivation (the service's MathML) with the selected step, the steps it depends on and a source's
// marks, and the loss curves (linear or log scale).

import { agrees } from "./presets.js";

const SVG_NS = "http://www.w3.org/2000/svg";

function svgElement(tag, attributes, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Each neuron's thumbnail (id → data: URL) inside its circle, under its value. */
function addThumbnails(svg, pictures) {
  const defs = svgElement("defs", {});
  svg.prepend(defs);
  for (const [id, url] of Object.entries(pictures)) {
    const circle = svg.querySelector(`g#${CSS.escape(id)} circle`);
    if (!circle) continue;
    const [cx, cy, r] = ["cx", "cy", "r"].map((a) => Number(circle.getAttribute(a)));
    defs.append(svgElement("clipPath", { id: `clip-${id}` }));
    defs.lastChild.append(svgElement("circle", { cx, cy, r: r - 1 }));
    circle.after(svgElement("image", { href: url, x: cx - r, y: cy - r, width: 2 * r, height: 2 * r, "clip-path": `url(#clip-${id})`,
      preserveAspectRatio: "none", class: "thumb", "aria-hidden": "true" }));
  }
  svg.classList.add("with-thumbs");
}

/** Put the diagram's SVG in ``box``; every neuron and edge becomes a keyboard-reachable button: ``onPick(step, edgeId)``. */
export function showDiagram(box, svgText, onPick, pictures) {
  const parsed = new DOMParser().parseFromString(svgText, "image/svg+xml");
  const svg = document.importNode(parsed.documentElement, true);
  svg.style.maxWidth = `${svg.getAttribute("width")}px`;
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  svg.setAttribute("role", "group"); // a picture whose neurons and edges are buttons: a group of them, named by its title
  if (pictures) addThumbnails(svg, pictures);
  for (const line of svg.querySelectorAll("line.edge")) { // a wider, invisible twin of each thin edge takes the clicks
    const hit = document.createElementNS(SVG_NS, "line");
    for (const name of ["x1", "y1", "x2", "y2", "data-step"]) hit.setAttribute(name, line.getAttribute(name));
    hit.setAttribute("class", "hit");
    hit.dataset.edge = line.id;
    line.after(hit);
  }
  for (const node of svg.querySelectorAll("g[data-step], line.hit")) {
    const title = (node.dataset.edge ? svg.getElementById(node.dataset.edge) : node).querySelector("title")?.textContent;
    node.setAttribute("tabindex", "0");
    node.setAttribute("role", "button");
    node.setAttribute("aria-label", `${title || node.dataset.step}: ${node.dataset.edge ? "show its step and edit it" : "show its step"}`);
  }
  const pick = (event) => {
    const target = event.target.closest("[data-step]");
    if (target) onPick(target.dataset.step, target.dataset.edge || null, target);
  };
  svg.addEventListener("click", pick);
  svg.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      pick(event);
    }
  });
  box.replaceChildren(svg);
}

/** A badge for a source's number on its step: ✓ where it is the exact value rounded, else what differs. */
function badge(mark, exact) {
  const same = agrees(mark, exact);
  const node = document.createElement("span");
  node.className = `mark ${same ? "same" : "differs"}`;
  const shown = String(Number(exact.toPrecision(Math.max(3, mark.decimals)))).replace("-", "−");
  node.textContent = same ? `${mark.source}: ${mark.text} ✓` : `${mark.source}: ${mark.text} — hand-rounded; exact ${shown}`;
  return node;
}

/** Put the derivation's HTML (MathML, one list item per step) in ``box``; a click or Enter on a step picks it.
 *  ``marks`` are a source's numbers (see presets.js), ``values`` the steps' exact values by id. */
export function showDerivation(box, html, onPick, marks = [], values = {}) {
  const template = document.createElement("template");
  template.innerHTML = html; // the service's own rendering of its own steps (see /v1/explain, render "mathml")
  for (const item of template.content.querySelectorAll("li.step")) item.setAttribute("tabindex", "0");
  for (const mark of marks) {
    const item = template.content.querySelector(`li.step[data-step="${CSS.escape(mark.step)}"]`);
    const exact = mark.exact ?? values[mark.step];
    if (item && exact !== undefined) item.append(badge(mark, exact));
  }
  box.replaceChildren(template.content);
  box.onclick = (event) => {
    const item = event.target.closest("li.step");
    if (item) onPick(item.dataset.step);
  };
  box.onkeydown = (event) => {
    const item = event.target.closest("li.step");
    if (item && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      onPick(item.dataset.step);
    }
  };
}

/** Mark step ``id`` and the steps it depends on; scroll it into the derivation's view. */
export function markStep(box, id, scroll) {
  for (const item of box.querySelectorAll(".selected, .depends")) item.classList.remove("selected", "depends");
  const item = id ? box.querySelector(`li.step[data-step="${CSS.escape(id)}"]`) : null;
  if (!item) return;
  item.classList.add("selected");
  for (const dep of (item.dataset.depends || "").split(" ").filter(Boolean)) {
    box.querySelector(`li.step[data-step="${CSS.escape(dep)}"]`)?.classList.add("depends");
  }
  if (scroll) {
    const top = item.offsetTop - box.offsetTop - box.clientHeight / 3;
    box.scrollTo({ top: Math.max(0, top), behavior: "smooth" });
  }
}

function nice(value) {
  return Math.abs(value) >= 1e-3 || value === 0 ? String(Number(value.toPrecision(3))) : value.toExponential(1);
}

/** The loss curves: ``series`` is [{name, points: [[x, loss], …], className}], x a step or an epoch; ``log`` a log axis. */
export function showCurve(box, series, { log = true, unit = "step" } = {}) {
  const width = Math.max(280, Math.round(box.clientWidth || 560)), height = 190, left = 62, right = 12, top = 12, bottom = 32;
  const all = series.flatMap((s) => s.points);
  const svg = svgElement("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "data-points": String(series[0]?.points.length ?? 0),
    "data-scale": log ? "log" : "linear" });
  const described = series.filter((s) => s.points.length).map((s) => `${s.name} from ${nice(s.points[0][1])} to ${nice(s.points.at(-1)[1])}`);
  svg.append(svgElement("title", {}, all.length ? `loss: ${described.join("; ")}` : "no steps yet"));
  const plotW = width - left - right, plotH = height - top - bottom;
  svg.append(svgElement("rect", { x: left, y: top, width: plotW, height: plotH, class: "plot" }));
  if (!all.length) {
    svg.append(svgElement("text", { x: left + plotW / 2, y: top + plotH / 2, "text-anchor": "middle", class: "empty" }, "Press Step, Train or Play to see the loss fall"));
    box.replaceChildren(svg);
    return;
  }
  const positive = all.map(([, v]) => v).filter((v) => v > 0);
  const floor = positive.length ? Math.min(...positive) : 1e-12;
  const f = log ? (v) => Math.log10(Math.max(v, floor)) : (v) => v;
  const ys = all.map(([, v]) => f(v));
  let lo = log ? Math.floor(Math.min(...ys)) : Math.min(0, ...ys), hi = log ? Math.ceil(Math.max(...ys)) : Math.max(...ys);
  if (hi === lo) hi = lo + 1;
  const xs = all.map(([x]) => x), x0 = Math.min(...xs), x1 = Math.max(...xs);
  const xOf = (x) => left + (x1 === x0 ? plotW / 2 : ((x - x0) * plotW) / (x1 - x0));
  const yOf = (v) => top + plotH - ((f(v) - lo) / (hi - lo)) * plotH;
  const ticks = log ? Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i)) : [lo, (lo + hi) / 2, hi];
  const shownTicks = ticks.length > 6 ? ticks.filter((_, i) => i % Math.ceil(ticks.length / 6) === 0) : ticks;
  for (const v of shownTicks) {
    svg.append(svgElement("line", { x1: left - 4, x2: left + plotW, y1: yOf(v), y2: yOf(v), class: "tick" }));
    svg.append(svgElement("text", { x: left - 7, y: yOf(v) + 4, "text-anchor": "end" }, log ? superscript(v) : nice(v)));
  }
  svg.append(svgElement("text", { x: left, y: height - 9 }, `${unit} ${x0}`));
  svg.append(svgElement("text", { x: left + plotW, y: height - 9, "text-anchor": "end" }, `${unit} ${x1}`));
  series.forEach((s, i) => {
    if (!s.points.length) return;
    const points = s.points.map(([x, v]) => `${xOf(x).toFixed(1)},${yOf(v).toFixed(1)}`).join(" ");
    svg.append(svgElement("polyline", { points, class: `line ${s.className}` }));
    if (s.points.length <= 60) for (const [x, v] of s.points) svg.append(svgElement("circle", { cx: xOf(x), cy: yOf(v), r: 2.5, class: `dot ${s.className}` }));
    svg.append(svgElement("text", { x: left + plotW - 6, y: top + 15 + 15 * i, "text-anchor": "end", class: `key ${s.className}` }, s.name));
  });
  box.replaceChildren(svg);
}

function superscript(v) {
  const SUP = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };
  return `10${[...String(Math.round(Math.log10(v)))].map((c) => SUP[c]).join("")}`;
}
