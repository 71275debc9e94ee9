// What the page shows: the diagram (the service's SVG, made clickable), the derivation (the service's
// MathML) with the selected step and the steps it depends on marked, and the loss curve.

const SVG_NS = "http://www.w3.org/2000/svg";

/** Put the diagram's SVG in ``box`` and make every neuron and edge a keyboard-reachable button. */
export function showDiagram(box, svgText, onPick) {
  const parsed = new DOMParser().parseFromString(svgText, "image/svg+xml");
  const svg = document.importNode(parsed.documentElement, true);
  svg.removeAttribute("width");
  svg.removeAttribute("height");
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
    node.setAttribute("aria-label", `${title || node.dataset.step}: show its step`);
  }
  svg.addEventListener("click", (event) => {
    const target = event.target.closest("[data-step]");
    if (target) onPick(target.dataset.step);
  });
  svg.addEventListener("keydown", (event) => {
    const target = event.target.closest("[data-step]");
    if (target && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      onPick(target.dataset.step);
    }
  });
  box.replaceChildren(svg);
}

/** Put the derivation's HTML (MathML, one list item per step) in ``box``; a click or Enter on a step picks it. */
export function showDerivation(box, html, onPick) {
  const template = document.createElement("template");
  template.innerHTML = html; // the service's own rendering of its own steps (see /v1/explain, render "mathml")
  for (const item of template.content.querySelectorAll("li.step")) item.setAttribute("tabindex", "0");
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

function svgElement(tag, attributes, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function nice(value) {
  return Math.abs(value) >= 1e-3 || value === 0 ? String(Number(value.toPrecision(3))) : value.toExponential(1);
}

/** The loss curve: one point per optimizer step (E before the step), drawn as the steps arrive. */
export function showCurve(box, losses) {
  const width = Math.max(280, Math.round(box.clientWidth || 560)), height = 180, left = 58, right = 12, top = 12, bottom = 30;
  const svg = svgElement("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "data-points": String(losses.length) });
  svg.append(svgElement("title", {}, losses.length ? `loss over ${losses.length} steps, from ${nice(losses[0])} to ${nice(losses.at(-1))}` : "no steps yet"));
  const plotW = width - left - right, plotH = height - top - bottom;
  svg.append(svgElement("rect", { x: left, y: top, width: plotW, height: plotH, class: "plot" }));
  if (!losses.length) {
    svg.append(svgElement("text", { x: left + plotW / 2, y: top + plotH / 2, "text-anchor": "middle", class: "empty" }, "Press Step or Train to see the loss fall"));
    box.replaceChildren(svg);
    return;
  }
  const max = Math.max(...losses), min = Math.min(0, ...losses);
  const span = max - min || 1;
  const xOf = (i) => left + (losses.length === 1 ? plotW / 2 : (i * plotW) / (losses.length - 1));
  const yOf = (v) => top + plotH - ((v - min) / span) * plotH;
  for (const v of [min, (min + max) / 2, max]) {
    svg.append(svgElement("line", { x1: left - 4, x2: left + plotW, y1: yOf(v), y2: yOf(v), class: "tick" }));
    svg.append(svgElement("text", { x: left - 7, y: yOf(v) + 4, "text-anchor": "end" }, nice(v)));
  }
  svg.append(svgElement("text", { x: left, y: height - 8 }, "step 1"));
  svg.append(svgElement("text", { x: left + plotW, y: height - 8, "text-anchor": "end" }, `step ${losses.length}`));
  svg.append(svgElement("text", { x: left + plotW - 6, y: top + 15, "text-anchor": "end", class: "axis" }, "E, before each step"));
  const points = losses.map((v, i) => `${xOf(i).toFixed(1)},${yOf(v).toFixed(1)}`).join(" ");
  svg.append(svgElement("polyline", { points, class: "line" }));
  if (losses.length <= 60) for (const [i, v] of losses.entries()) svg.append(svgElement("circle", { cx: xOf(i), cy: yOf(v), r: 2.5, class: "dot" }));
  box.replaceChildren(svg);
}
