// The form: every weight, bias and activation of the network, which of them train, x, t, the loss and the optimizer.
// Each input carries data-pointer, the JSON Pointer of what it edits in the request body, so an error of the API
// (problem+json errors[].pointer) is shown next to the field it points at.

const SUB = Object.fromEntries([..."0123456789,"].map((c, i) => [c, "₀₁₂₃₄₅₆₇₈₉,"[i]]));
const SUP = Object.fromEntries([..."0123456789()"].map((c, i) => [c, "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾"[i]]));
export const sub = (text) => [...String(text)].map((c) => SUB[c] ?? c).join("");
export const sup = (text) => [...String(text)].map((c) => SUP[c] ?? c).join("");

/** w₁,₂⁽²⁾ for layer l, row k, column m (0-based), b₁⁽²⁾ for a bias (m undefined). */
export function parameterName(l, k, m) {
  return m === undefined ? `b${sub(k + 1)}${sup(`(${l + 1})`)}` : `w${sub(`${k + 1},${m + 1}`)}${sup(`(${l + 1})`)}`;
}

export function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children);
  return node;
}

/** A number as the user typed it: a finite number is sent as one, anything else as the text (the API says what is wrong). */
export function parseNumber(text) {
  const trimmed = text.trim().replace(/^[−–]/, "-");
  const value = Number(trimmed);
  return trimmed !== "" && Number.isFinite(value) ? value : trimmed;
}

/** A number as a field shows it: at most 6 significant digits (the full value is kept while the text is unchanged). */
export function shortNumber(value) {
  if (typeof value !== "number") return String(value);
  const short = String(Number(value.toPrecision(6)));
  return short.length < String(value).length ? short : String(value);
}

/** "1, 2" → [1, 2]; several lines → one row per line (a batch). */
export function parsePoints(text) {
  const rows = text.split(/\n|;/).map((line) => line.trim()).filter(Boolean)
    .map((line) => line.split(/[\s,]+/).filter(Boolean).map(parseNumber));
  return rows.length === 1 ? rows[0] : rows;
}

export function formatPoints(points) {
  const rows = Array.isArray(points[0]) ? points : [points];
  return rows.map((row) => row.join(", ")).join("\n");
}

function activationName(activation) {
  return typeof activation === "string" ? activation : activation.name;
}

function options(select, names, current) {
  select.replaceChildren(...names.map((name) => element("option", { value: name }, name)));
  if (!names.includes(current)) select.append(element("option", { value: current }, current));
  select.value = current;
}

/** A number field that shows ``value`` short and remembers it in full (read() keeps it while the text is as shown). */
function numberInput(value, pointer, label) {
  const text = shortNumber(value);
  return element("input", { value: text, "data-pointer": pointer, "data-shown": text, "data-full": JSON.stringify(value), inputmode: "decimal",
    spellcheck: "false", "aria-label": label, title: `${label} = ${value}` });
}

function readNumber(input) {
  return input.value === input.dataset.shown ? JSON.parse(input.dataset.full) : parseNumber(input.value);
}

/** The layer editors: a grid of weights (row k = output neuron k), the bias, the activation, which of them train. */
function layerEditor(layer, l, activations) {
  const K = layer.weights.length;
  const M = layer.weights[0].length;
  const base = `/network/layers/${l}`;
  const grid = element("div", { class: "grid", style: `grid-template-columns: repeat(${M}, minmax(4.2rem, 6rem))`, role: "group",
    "aria-label": `weights of layer ${l + 1}, ${K} rows by ${M} columns` });
  layer.weights.forEach((row, k) => row.forEach((w, m) => grid.append(numberInput(w, `${base}/weights/${k}/${m}`, parameterName(l, k, m)))));
  const biasGrid = element("div", { class: "grid bias", style: `grid-template-columns: repeat(${Math.min(K, 8)}, minmax(4.2rem, 6rem))`,
    role: "group", "aria-label": `bias of layer ${l + 1}` });
  (layer.bias || []).forEach((b, k) => biasGrid.append(numberInput(b, `${base}/bias/${k}`, parameterName(l, k))));
  const hasBias = element("input", { type: "checkbox", "data-bias": String(l), id: `bias-${l}`, checked: !!layer.bias });
  const trainable = element("input", { type: "checkbox", "data-trainable": String(l), id: `trainable-${l}`, "data-pointer": `${base}/trainable`,
    checked: layer.trainable !== false });
  const trainBias = element("input", { type: "checkbox", "data-train-bias": String(l), id: `train-bias-${l}`, "data-pointer": `${base}/train_bias`,
    checked: layer.train_bias !== false, disabled: !layer.bias });
  const select = element("select", { "data-pointer": `${base}/activation`, "data-activation": String(l), id: `activation-${l}` });
  options(select, activations, activationName(layer.activation));
  return element("fieldset", { class: "layer", "data-layer": String(l) },
    element("legend", {}, `Layer ${l + 1}: W${sup(`(${l + 1})`)} is ${K} × ${M}`),
    element("div", { class: "field", "data-field": `${base}/weights` }, element("span", { class: "label" }, "weights (a row per output neuron)"),
      grid, element("div", { class: "errors" })),
    element("div", { class: "row" },
      element("div", { class: "field", "data-field": `${base}/bias` },
        element("label", { class: "inline", for: `bias-${l}` }, hasBias, " bias"), biasGrid, element("div", { class: "errors" })),
      element("div", { class: "field", "data-field": `${base}/activation` },
        element("label", { for: `activation-${l}` }, `activation h${sup(`(${l + 1})`)}`), select, element("div", { class: "errors" })),
      element("div", { class: "field freeze", "data-field": `${base}/trainable` },
        element("label", { class: "inline", for: `trainable-${l}` }, trainable, " trains"),
        element("label", { class: "inline", for: `train-bias-${l}` }, trainBias, " its bias trains"),
        element("div", { class: "errors" }))));
}

/** Fill the form from the state; ``catalog`` has the names of the activations, losses and optimizers. */
export function fill(form, state, catalog) {
  form.querySelector("#x").value = formatPoints(state.x);
  form.querySelector("#t").value = formatPoints(state.t);
  options(form.querySelector("#loss"), catalog.losses, activationName(state.loss));
  form.querySelector("#reduction").value = state.reduction;
  options(form.querySelector("#optimizer"), catalog.optimizers, state.optimizer.name);
  form.querySelector("#learning-rate").value = String(state.optimizer.learning_rate ?? "");
  const { name, learning_rate, ...extra } = state.optimizer;
  form.querySelector("#hyper").value = Object.keys(extra).length ? JSON.stringify(extra) : "";
  form.querySelector("#layers").replaceChildren(...state.network.layers.map((layer, l) => layerEditor(layer, l, catalog.activations)));
  form.querySelector("#sizes").value = sizesOf(state.network).join("-");
}

export function sizesOf(network) {
  return [network.layers[0].weights[0].length, ...network.layers.map((ly) => ly.weights.length)];
}

/** The state the form describes (numbers that do not parse stay text, for the API to point at). */
export function read(form, state) {
  const layers = state.network.layers.map((old, l) => {
    const base = `/network/layers/${l}`;
    const field = (p) => form.querySelector(`[data-pointer="${p}"]`);
    const weights = old.weights.map((row, k) => row.map((_, m) => readNumber(field(`${base}/weights/${k}/${m}`))));
    const wantsBias = form.querySelector(`[data-bias="${l}"]`).checked;
    let bias;
    if (wantsBias) bias = old.bias ? old.bias.map((_, k) => readNumber(field(`${base}/bias/${k}`))) : weights.map(() => 0);
    const chosen = form.querySelector(`[data-activation="${l}"]`).value;
    const activation = chosen === activationName(old.activation) ? old.activation : chosen;
    const trains = form.querySelector(`[data-trainable="${l}"]`).checked;
    const biasTrains = form.querySelector(`[data-train-bias="${l}"]`).checked || !bias;
    return { weights, ...(bias ? { bias } : {}), activation, ...(trains ? {} : { trainable: false }), ...(biasTrains ? {} : { train_bias: false }) };
  });
  const chosenLoss = form.querySelector("#loss").value;
  const loss = chosenLoss === activationName(state.loss) ? state.loss : chosenLoss;
  let extra = {};
  const hyper = form.querySelector("#hyper").value.trim();
  if (hyper) {
    try {
      extra = JSON.parse(hyper);
    } catch {
      throw new FieldError("/optimizer_extra", "is not JSON: write an object such as {\"momentum\": 0.9}");
    }
  }
  const optimizer = { name: form.querySelector("#optimizer").value, learning_rate: parseNumber(form.querySelector("#learning-rate").value), ...extra };
  const sameOptimizer = JSON.stringify(optimizer) === JSON.stringify(state.optimizer);
  const shapes = (ls) => JSON.stringify(ls.map((ly) => [ly.weights.length, ly.weights[0].length, !!ly.bias]));
  return {
    ...state,
    network: { layers },
    x: parsePoints(form.querySelector("#x").value),
    t: parsePoints(form.querySelector("#t").value),
    loss,
    reduction: form.querySelector("#reduction").value,
    optimizer,
    optimizer_state: sameOptimizer && shapes(layers) === shapes(state.network.layers) ? state.optimizer_state : null,
  };
}

/** An error the page finds itself before asking the API (a field that is not JSON). */
export class FieldError extends Error {
  constructor(pointer, detail) {
    super(detail);
    this.pointer = pointer;
  }
}

/** The field that shows an error at ``pointer``: the input with that pointer, or the nearest enclosing one. */
function fieldFor(root, pointer) {
  for (let p = pointer; p; p = p.slice(0, Math.max(0, p.lastIndexOf("/")))) {
    const input = root.querySelector(`[data-pointer="${CSS.escape(p)}"]`);
    const field = root.querySelector(`[data-field="${CSS.escape(p)}"]`) || input?.closest("[data-field]");
    if (field) return { field, input };
  }
  return null;
}

export function clearErrors(root) {
  for (const box of root.querySelectorAll(".errors")) box.replaceChildren();
  for (const input of root.querySelectorAll("[aria-invalid]")) {
    input.removeAttribute("aria-invalid");
    input.removeAttribute("aria-describedby");
  }
}

let counter = 0;

/** Show each (pointer, detail) next to its field; returns those that no field of the page shows. */
export function showErrors(root, errors) {
  const unplaced = [];
  for (const { pointer, detail } of errors) {
    const found = pointer ? fieldFor(root, pointer) : null;
    if (!found) {
      unplaced.push({ pointer, detail });
      continue;
    }
    const id = `error-${++counter}`;
    const label = found.input?.getAttribute("aria-label");
    const where = label && found.input.dataset.pointer === pointer ? `${label}: ` : "";
    found.field.querySelector(".errors").append(element("p", { id, class: "error", "data-pointer": pointer }, where + detail));
    if (found.input) {
      found.input.setAttribute("aria-invalid", "true");
      found.input.setAttribute("aria-describedby", id);
    }
  }
  return unplaced;
}
