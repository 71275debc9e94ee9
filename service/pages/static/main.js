// The learner's page: wires the state, the form, the API and the views together.
// Every computation is a call of the service's public API; the state is in the URL fragment.

import { Problem, getApiKey, getJson, getStream, postJson, postStream, postText, setApiKey, url } from "./api.js";
import { points } from "./datasets.js";
import { FieldError, clearErrors, fill, parameterName, parseNumber, read, showErrors, sizesOf } from "./form.js";
import { drawHeatmap, gridPoints, thumbnails } from "./heatmap.js";
import { PRESETS, SOURCES, intact, marks } from "./presets.js";
import { dataTrainBody, diagramBody, explainBody, fromFragment, highlightOf, lossBody, toFragment, trainBody } from "./state.js";
import * as structure from "./structure.js";
import { markStep, showCurve, showDerivation, showDiagram } from "./view.js";

const $ = (selector) => document.querySelector(selector);
const CHUNK = 5; // epochs per /v1/train/stream request while playing
const page = {
  state: PRESETS.primer(),
  curve: { train: [], test: [] }, // [x, loss] pairs: x a step (x and t) or an epoch (a dataset)
  catalog: { activations: [], losses: [], optimizers: [] },
  limits: null,
  primerLines: [],
  points: null, // the dataset's points, drawn from state.data
  pictures: null, // each neuron's heat map, by diagram id
  busy: false,
  playing: false,
  generation: 0,
  editing: null,
};

function status(text) {
  $("#status").textContent = text;
}

/** Show an API problem (or a page-side FieldError) next to the fields it points at; the rest above the page. */
function showProblem(error) {
  const box = $("#problem");
  clearErrors(document);
  const doc = error instanceof Problem ? error.document
    : error instanceof FieldError ? { detail: error.message, errors: [{ pointer: error.pointer, detail: error.message }] }
    : { detail: String(error?.message || error), errors: [] };
  const unplaced = showErrors(document, doc.errors || []);
  const lines = unplaced.map((e) => (e.pointer ? `${e.pointer}: ${e.detail}` : e.detail));
  if (!(doc.errors || []).length) lines.push(doc.detail);
  box.hidden = lines.length === 0;
  box.textContent = lines.length ? `The service refused this request: ${lines.join("; ")}` : "";
  if (lines.length === 0) status("Fix the marked field");
}

function clearProblem() {
  clearErrors(document);
  $("#problem").hidden = true;
  $("#problem").textContent = "";
}

/** The loss, the diagram and the derivation show the last network that was computed: say so while the form differs. */
function stale(on) {
  for (const selector of ["#diagram", "#derivation", ".loss", "#heatmap"]) $(selector).classList.toggle("stale", on);
  $("#stale-note").hidden = !on;
  $("#derivation").setAttribute("aria-describedby", on ? "stale-note" : "");
}

function saveToUrl() {
  history.replaceState(null, "", toFragment(page.state));
}

/** The explained point of a dataset (a training point) as x and t. */
function withPoint(state) {
  if (!state.data || !page.points) return state;
  const n = Math.min(Math.max(0, state.point | 0), page.points.train.x.length - 1);
  return { ...state, point: n, x: page.points.train.x[n], t: page.points.train.t[n] };
}

function diagramWidth() {
  const width = $("#diagram-box").clientWidth;
  return Math.max(200, Math.min(4000, Math.round(width / 10) * 10));
}

async function drawDiagram() {
  const generation = page.generation;
  const chosen = highlightOf(page.state.selected);
  const draw = async (highlight) => {
    const body = { ...diagramBody(page.state, highlight?.highlight, diagramWidth()), point: 0 };
    const svg = await postText("/v1/diagram", body, "image/svg+xml");
    if (generation === page.generation) showDiagram($("#diagram"), svg, pickFromDiagram, page.pictures);
  };
  try {
    await draw(chosen);
  } catch (error) {
    if (chosen && error instanceof Problem) return draw(null); // a step the diagram cannot mark (e.g. a batch's term): unmarked
    throw error;
  }
}

function pick(id) {
  page.state.selected = id;
  saveToUrl();
  markStep($("#derivation"), id, true);
  drawDiagram().catch(showProblem);
}

function pickFromDiagram(id, edge, target) {
  pick(id);
  if (edge) openEditor(edge, target);
}

/** The editor of the weight or bias an edge carries (e-l-k-m or b-l-k), beside the edge. */
function openEditor(edge, target) {
  const [kind, ...n] = edge.split("-");
  const [l, k, m] = n.map(Number);
  const layer = page.state.network.layers[l];
  const value = kind === "e" ? layer.weights[k][m] : layer.bias[k];
  page.editing = { kind, l, k, m, edge };
  const editor = $("#weight-editor");
  $("#weight-editor-label").textContent = kind === "e" ? parameterName(l, k, m) : parameterName(l, k);
  $("#weight-value").value = String(value);
  editor.hidden = false;
  const box = $("#diagram-box").getBoundingClientRect(), at = target.getBoundingClientRect();
  const left = Math.min(Math.max(0, at.left + at.width / 2 - box.left - editor.offsetWidth / 2), box.width - editor.offsetWidth);
  editor.style.left = `${left}px`;
  editor.style.top = `${Math.max(0, at.bottom - box.top + 6)}px`;
  $("#weight-value").focus();
  $("#weight-value").select();
}

function closeEditor() {
  const editing = page.editing;
  page.editing = null;
  $("#weight-editor").hidden = true;
  if (editing) document.querySelector(`#diagram line.hit[data-edge="${editing.edge}"]`)?.focus();
}

function applyEditor() {
  const { kind, l, k, m } = page.editing;
  const layers = structuredClone(page.state.network.layers);
  const value = parseNumber($("#weight-value").value);
  if (kind === "e") layers[l].weights[k][m] = value;
  else layers[l].bias[k] = value;
  page.state = { ...page.state, network: { layers }, optimizer_state: null };
  closeEditor();
  reload();
}

function explainedValues(explained) {
  return Object.fromEntries(explained.steps.map((s) => [s.id, s.value]));
}

function showLoss(explained) {
  const loss = explained.steps.find((s) => s.id === "loss");
  const after = explained.steps.find((s) => s.id === "loss_after");
  const digits = Math.max(6, page.state.digits);
  $("#loss-value").textContent = loss ? `E = ${Number(loss.value.toPrecision(digits))}` : "";
  $("#loss-value").dataset.value = loss ? String(loss.value) : "";
  $("#loss-after").textContent = after ? `→ ${Number(after.value.toPrecision(digits))} after one step` : "";
  $("#loss-after").dataset.value = after ? String(after.value) : "";
}

/** The heat maps: one /v1/forward of the network over the grid; every neuron's z drawn. */
async function drawHeat() {
  if (!page.state.data) {
    page.pictures = null;
    return;
  }
  const forward = await postJson("/v1/forward", { network: page.state.network, x: gridPoints(), include: ["z"] });
  page.pictures = thumbnails(forward);
  drawHeatmap($("#heatmap"), forward.layers.at(-1).z.map((row) => row[0]), page.points);
}

/** Ask the service for the derivation, the heat maps and the diagram of the current state, and show them. */
async function refresh() {
  const generation = ++page.generation;
  saveToUrl();
  status("Computing…");
  try {
    const explaining = postJson("/v1/explain", explainBody(page.state));
    await drawHeat();
    const [explained] = await Promise.all([explaining, drawDiagram()]);
    if (generation !== page.generation) return;
    clearProblem();
    stale(false);
    const presetMarks = intact(page.state) ? marks(page.state.preset, page.primerLines) : [];
    showDerivation($("#derivation"), explained.rendered, pick, presetMarks, explainedValues(explained));
    markStep($("#derivation"), page.state.selected, false);
    showLoss(explained);
    status(`${explained.steps.length} steps`);
  } catch (error) {
    if (generation === page.generation) {
      showProblem(error);
      stale(true);
      status("");
    }
  }
}

/** Read the form into the state; on a field the page can tell is wrong, show it there (and mark the views stale). */
function fromForm() {
  try {
    page.state = withPoint(read($("#form"), page.state));
    return true;
  } catch (error) {
    showProblem(error);
    stale(true);
    return false;
  }
}

function showCurves() {
  const epochs = !!page.state.data;
  const series = [{ name: epochs ? "training" : "E before each step", points: page.curve.train, className: "train" }];
  if (epochs) series.push({ name: "test", points: page.curve.test, className: "test" });
  showCurve($("#curve"), series, { log: page.state.log_scale, unit: epochs ? "epoch" : "step" });
}

function showLosses() {
  const last = (s) => (s.length ? Number(s.at(-1)[1].toPrecision(4)) : "–");
  $("#losses").textContent = page.state.data ? `training loss ${last(page.curve.train)}, test loss ${last(page.curve.test)}` : "";
  $("#losses").dataset.test = page.curve.test.length ? String(page.curve.test.at(-1)[1]) : "";
  $("#epoch").textContent = `epoch ${page.state.epoch}`;
}

function fillControls() {
  const { state } = page;
  for (const box of document.querySelectorAll('input[name="show"]')) box.checked = state.show.includes(box.value);
  $("#digits").value = String(state.digits);
  $("#chain").checked = !!state.chain;
  $("#log-scale").checked = state.log_scale !== false;
  $("#dataset").value = state.data?.kind ?? "";
  document.body.classList.toggle("with-data", !!state.data);
  if (state.data) {
    $("#noise").value = String(state.data.noise);
    $("#noise-out").textContent = String(state.data.noise);
    $("#split").value = String(state.data.share);
    $("#split-out").textContent = `${Math.round(state.data.share * 100)}%`;
    $("#batch").value = String(state.data.batch_size);
    $("#point").value = String(state.point);
    $("#point").max = String((page.points?.train.x.length ?? 1) - 1);
  }
  for (const button of document.querySelectorAll(".preset")) button.setAttribute("aria-pressed", String(button.dataset.preset === state.preset));
  $("#preset-note").hidden = !SOURCES[state.preset] || !intact(state);
  $("#preset-note").textContent = SOURCES[state.preset] ?? "";
  showStructure();
}

function reload() {
  if (page.state.data) page.points = points(page.state.data);
  page.state = withPoint(page.state);
  fill($("#form"), page.state, page.catalog);
  fillControls();
  showCurves();
  showLosses();
  return refresh();
}

async function busy(label, work) {
  if (page.busy) return;
  page.busy = true;
  for (const b of document.querySelectorAll(".toolbar button, .structure button, .presets button")) b.disabled = true;
  status(label);
  try {
    await work();
  } catch (error) {
    showProblem(error);
    status("");
  } finally {
    page.busy = false;
    for (const b of document.querySelectorAll(".toolbar button, .structure button, .presets button")) b.disabled = false;
  }
}

/** The number of steps asked for, checked against the service's max_train_steps before anything is sent. */
function stepsAsked() {
  const value = Number($("#train-n").value);
  const limit = page.limits?.max_train_steps;
  if (!Number.isInteger(value) || value < 1) throw new FieldError("/epochs", "write a whole number of steps, 1 or more");
  if (limit && value > limit) throw new FieldError("/epochs", `at most ${limit} steps at a time (the service's max_train_steps); train again to go on`);
  return value;
}

async function step() {
  if (!fromForm()) return;
  await busy("One step…", async () => {
    const result = await postJson("/v1/train-step", lossBody(page.state));
    page.curve.train.push([page.curve.train.length + 1, result.loss]);
    page.state = { ...page.state, network: result.network, optimizer_state: result.optimizer_state };
    await reload();
  });
}

async function train() {
  if (!fromForm()) return;
  await busy("Training…", async () => {
    const epochs = stepsAsked();
    let failed = null;
    await postStream("/v1/train", trainBody(page.state, epochs), (line) => {
      if (line.event === "epoch") {
        for (const loss of line.losses) page.curve.train.push([page.curve.train.length + 1, loss]);
        showCurves();
        $("#loss-value").textContent = `E = ${Number(line.loss.toPrecision(6))}`;
        status(`Training: step ${line.epoch} of ${line.epochs}`);
      } else if (line.event === "result") {
        page.state = { ...page.state, network: line.network, optimizer_state: line.optimizer_state };
      } else if (line.event === "error") {
        failed = new Problem(line);
      }
    });
    await reload();
    if (failed) throw failed;
  });
}

/** Train as a job in a worker (POST /v1/trainings), the curve growing from its event stream, then take its result. */
async function trainInBackground() {
  if (!fromForm()) return;
  await busy("Training in the background…", async () => {
    const body = trainBody(page.state, stepsAsked());
    const rows = (v) => (Array.isArray(v[0]) ? v : [v]); // a job trains on a dataset: one row per point, also for one point
    const job = await postJson("/v1/trainings", { ...body, x: rows(body.x), t: rows(body.t) });
    let end = null;
    await getStream(`/v1/trainings/${job.id}/events`, (line) => {
      if (line.event === "step") {
        page.curve.train.push([page.curve.train.length + 1, line.loss]);
        showCurves();
        $("#loss-value").textContent = `E = ${Number(line.loss.toPrecision(6))}`;
        status(`Training job ${job.id.slice(0, 8)}: step ${line.step} of ${job.progress.total}`);
      } else if (line.event === "end") {
        end = line;
      }
    });
    if (!end || end.state !== "succeeded") throw new Problem(end?.problem || { detail: `the job ended ${end?.state ?? "early"}`, errors: [] });
    const result = await getJson(`/v1/trainings/${job.id}/result`);
    page.state = { ...page.state, network: result.network, optimizer_state: result.optimizer_state };
    await reload();
  });
}

/** ``CHUNK`` epochs over the training points (/v1/train/stream), then the test loss at the new weights (/v1/backward). */
async function trainChunk() {
  const start = page.state.epoch;
  let result = null, failed = null;
  await postStream("/v1/train/stream", dataTrainBody(page.state, page.points.train, CHUNK), (line) => {
    if (line.event === "epoch") {
      page.curve.train.push([start + line.epoch, line.loss]);
      page.state.epoch = start + line.epoch;
      showCurves();
      showLosses();
    } else if (line.event === "result") {
      result = line;
    } else if (line.event === "error") {
      failed = new Problem(line);
    }
  });
  if (failed) throw failed;
  page.state = { ...page.state, network: result.network, optimizer_state: result.optimizer_state, epoch: start + CHUNK };
  const { test } = page.points;
  const tested = await postJson("/v1/backward", { network: page.state.network, x: test.x, t: test.t, loss: page.state.loss, reduction: "mean", include: [] });
  page.curve.test.push([page.state.epoch, tested.loss]);
  showCurves();
  showLosses();
  page.state = withPoint(page.state);
  fill($("#form"), page.state, page.catalog);
  await refresh();
}

function setPlaying(on) {
  page.playing = on;
  $("#play").textContent = on ? "Pause" : "Play";
  $("#play").setAttribute("aria-pressed", String(on));
}

async function play() {
  if (page.playing) {
    setPlaying(false);
    return;
  }
  if (!fromForm() || page.busy) return;
  setPlaying(true);
  status("Playing…");
  try {
    while (page.playing) await trainChunk();
  } catch (error) {
    showProblem(error);
  } finally {
    setPlaying(false);
  }
}

function shellQuote(text) {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

async function copy(text, what) {
  $("#copied-box").hidden = false;
  $("#copied").value = text;
  try {
    await navigator.clipboard.writeText(text);
    status(`${what} copied to the clipboard`);
  } catch {
    $("#copied").select();
    status(`${what} is below: select it and copy`);
  }
}

function activationsFor(sizes, network) {
  return sizes.slice(1).map((_, i) => network?.layers[i]?.activation ?? (i === sizes.length - 2 ? "linear" : "tanh"));
}

async function init(sizes, activations, seed) {
  const body = { sizes, activations: activations.map((a) => (typeof a === "string" ? a : a.name)), initializer: "glorot_uniform", bias: true, seed };
  return (await postJson("/v1/networks/init", body)).network;
}

async function newNetwork() {
  const sizes = $("#sizes").value.split(/[\s,x×-]+/).filter(Boolean).map(Number);
  await busy("New weights…", async () => {
    if (sizes.length < 2 || !sizes.every((n) => Number.isInteger(n) && n > 0)) throw new FieldError("/sizes", "write the sizes as inputs-hidden-…-outputs, e.g. 2-3-2");
    const activations = sizes.slice(1).map((_, i) => (i === sizes.length - 2 ? "linear" : "tanh"));
    const network = await init(sizes, activations, Number($("#seed").value) || 0);
    const M = sizes[0], K = sizes.at(-1);
    const resize = (points, n, fillWith) => {
      const rows = Array.isArray(points[0]) ? points : [points];
      const fitted = rows.map((row) => Array.from({ length: n }, (_, i) => (typeof row[i] === "number" ? row[i] : fillWith)));
      return Array.isArray(points[0]) ? fitted : fitted[0];
    };
    page.state = { ...page.state, network, x: resize(page.state.x, M, 1), t: resize(page.state.t, K, 0), optimizer_state: null, selected: null };
    page.curve = { train: [], test: [] };
    await reload();
  });
}

/** Add or remove a neuron or a hidden layer in place (structure.js): the other weights keep their values. */
async function reshape(change, l) {
  if (!fromForm()) return;
  await busy("Changing the network…", async () => {
    const { network } = page.state;
    const sizes = structure.resized(sizesOf(network), change, l);
    const activations = change === "add-layer" ? [...network.layers.slice(0, l).map((ly) => ly.activation), "tanh", ...network.layers.slice(l).map((ly) => ly.activation)]
      : change === "remove-layer" ? network.layers.filter((_, i) => i !== l).map((ly) => ly.activation) : network.layers.map((ly) => ly.activation);
    const fresh = await init(sizes, activations, (Number($("#seed").value) || 0) + sizes.reduce((a, b) => a + b, 0));
    const changed = { "add-neuron": structure.addNeuron, "remove-neuron": structure.removeNeuron, "add-layer": structure.addLayer,
      "remove-layer": structure.removeLayer }[change](network, l, fresh);
    page.state = { ...page.state, network: changed, optimizer_state: null, selected: null };
    await reload();
  });
}

function showStructure() {
  const box = $("#structure");
  const { layers } = page.state.network;
  const button = (text, label, change, l, disabled = false) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "small";
    b.textContent = text;
    b.setAttribute("aria-label", label);
    b.disabled = disabled;
    b.addEventListener("click", () => reshape(change, l));
    return b;
  };
  const rows = layers.slice(0, -1).map((layer, l) => {
    const row = document.createElement("span");
    row.className = "structure-layer";
    const K = layer.weights.length;
    row.append(`layer ${l + 1}: ${K} neuron${K > 1 ? "s" : ""} `,
      button("−", `one neuron fewer in layer ${l + 1}`, "remove-neuron", l, K <= 1),
      button("+", `one neuron more in layer ${l + 1}`, "add-neuron", l),
      button("remove layer", `remove layer ${l + 1}`, "remove-layer", l));
    return row;
  });
  const add = button("+ hidden layer", "add a hidden layer before the output layer", "add-layer", layers.length - 1);
  box.replaceChildren(...rows, add);
}

/** A preset as it starts: its network drawn by /v1/networks/init when it names one (XOR), its dataset's point. */
async function usePreset(name) {
  await busy("Loading…", async () => {
    setPlaying(false);
    const state = PRESETS[name]();
    if (!state.network) state.network = await init(state.init.sizes, state.init.activations, state.init.seed);
    page.state = state;
    page.curve = { train: [], test: [] };
    await reload();
  });
}

async function chooseDataset() {
  const kind = $("#dataset").value;
  if (!fromForm()) return;
  await busy("New data…", async () => {
    setPlaying(false);
    const old = page.state.data;
    let { network } = page.state;
    const data = kind ? { kind, noise: old?.noise ?? 0, n: 200, share: old?.share ?? 0.5, seed: old?.seed ?? 1, batch_size: old?.batch_size ?? 10 } : null;
    const sizes = sizesOf(network);
    if (data && (sizes[0] !== 2 || sizes.at(-1) !== 1)) network = await init([2, 4, 1], ["tanh", "tanh"], 2);
    page.state = { ...page.state, data, network, point: 0, epoch: 0, optimizer_state: null, preset: null,
      ...(data ? { loss: "half_sse", reduction: "mean" } : {}) };
    page.curve = { train: [], test: [] };
    await reload();
  });
}

function changeData(key, value) {
  if (!page.state.data) return;
  setPlaying(false);
  page.state = { ...page.state, data: { ...page.state.data, [key]: value }, epoch: 0, optimizer_state: null };
  page.curve = { train: [], test: [] };
  reload();
}

async function start() {
  try {
    const fromLink = fromFragment(location.hash);
    if (fromLink) page.state = fromLink;
  } catch (error) {
    showProblem(new Error(`The link's state could not be read (${error.message}); showing the primer's example.`));
  }
  $("#api-key").value = getApiKey();
  try {
    const [activations, losses, optimizers, limits] = await Promise.all(["/v1/activations", "/v1/losses", "/v1/optimizers", "/v1/limits"].map(getJson));
    page.catalog = { activations: activations.map((e) => e.name), losses: losses.map((e) => e.name), optimizers: optimizers.map((e) => e.name) };
    page.limits = limits;
    page.primerLines = (await (await fetch(new URL("learn-assets/primer-derivation.json", document.baseURI))).json()).lines;
    if (!page.state.network) page.state.network = await init(page.state.init.sizes, page.state.init.activations, page.state.init.seed);
  } catch (error) {
    showProblem(error);
  }
  await reload();

  $("#form").addEventListener("change", (event) => {
    if (event.target.id === "sizes" || event.target.id === "seed") return;
    if (event.target.matches("[data-bias]") || event.target.id === "optimizer") {
      if (!fromForm()) return;
      if (event.target.id === "optimizer") page.state.optimizer = { name: page.state.optimizer.name, learning_rate: page.state.optimizer.learning_rate };
      reload();
      return;
    }
    if (fromForm()) refresh();
  });
  $("#form").addEventListener("submit", (event) => event.preventDefault());
  for (const box of document.querySelectorAll('input[name="show"]')) {
    box.addEventListener("change", () => {
      page.state.show = [...document.querySelectorAll('input[name="show"]:checked')].map((b) => b.value);
      saveToUrl();
      drawDiagram().catch(showProblem);
    });
  }
  $("#digits").addEventListener("change", () => {
    page.state.digits = Number($("#digits").value) || $("#digits").value;
    refresh();
  });
  $("#chain").addEventListener("change", () => {
    page.state.chain = $("#chain").checked;
    refresh();
  });
  $("#log-scale").addEventListener("change", () => {
    page.state.log_scale = $("#log-scale").checked;
    saveToUrl();
    showCurves();
  });
  $("#step").addEventListener("click", step);
  $("#train").addEventListener("click", train);
  $("#train-background").addEventListener("click", trainInBackground);
  $("#reset").addEventListener("click", () => usePreset(page.state.preset || "primer"));
  for (const button of document.querySelectorAll(".preset")) button.addEventListener("click", () => usePreset(button.dataset.preset));
  $("#copy-json").addEventListener("click", () => fromForm() && copy(JSON.stringify(lossBody(page.state), null, 2), "The request (for /v1/train-step or /v1/explain)"));
  $("#copy-curl").addEventListener("click", () => {
    if (!fromForm()) return;
    const body = JSON.stringify({ ...lossBody(page.state), digits: page.state.digits, render: "text" });
    copy(`curl -s ${url("/v1/explain")} -H 'Content-Type: application/json' -d ${shellQuote(body)}`, "A curl command for /v1/explain");
  });
  $("#new-network").addEventListener("click", newNetwork);
  $("#dataset").addEventListener("change", chooseDataset);
  $("#noise").addEventListener("change", () => changeData("noise", Number($("#noise").value)));
  $("#noise").addEventListener("input", () => ($("#noise-out").textContent = $("#noise").value));
  $("#split").addEventListener("change", () => changeData("share", Number($("#split").value)));
  $("#split").addEventListener("input", () => ($("#split-out").textContent = `${Math.round(Number($("#split").value) * 100)}%`));
  $("#batch").addEventListener("change", () => {
    const size = Number($("#batch").value);
    if (!Number.isInteger(size) || size < 1) return showProblem(new FieldError("/batch_size", "write a whole number of points, 1 or more"));
    changeData("batch_size", size);
  });
  $("#point").addEventListener("change", () => {
    page.state = withPoint({ ...page.state, point: Number($("#point").value) || 0 });
    fill($("#form"), page.state, page.catalog);
    refresh();
  });
  $("#play").addEventListener("click", play);
  $("#weight-apply").addEventListener("click", applyEditor);
  $("#weight-close").addEventListener("click", closeEditor);
  $("#weight-value").addEventListener("keydown", (event) => {
    if (event.key === "Enter") applyEditor();
    if (event.key === "Escape") closeEditor();
  });
  $("#api-key").addEventListener("change", () => {
    setApiKey($("#api-key").value);
    reload();
  });
  let resizing = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => drawDiagram().catch(showProblem), 200);
  });
  window.addEventListener("hashchange", () => {
    try {
      const linked = fromFragment(location.hash);
      if (linked && JSON.stringify(linked) !== JSON.stringify(page.state)) {
        page.state = linked;
        reload();
      }
    } catch (error) {
      showProblem(error);
    }
  });
}

start();
