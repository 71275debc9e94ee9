// The learner's page: wires the state, the form, the API and the views together.
// Every computation is a call of the service's public API; the state is in the URL fragment.

import { Problem, getApiKey, getJson, getStream, postJson, postStream, postText, setApiKey, url } from "./api.js";
import { FieldError, clearErrors, fill, read, showErrors } from "./form.js";
import { diagramBody, explainBody, fromFragment, highlightOf, lossBody, primer, toFragment, trainBody } from "./state.js";
import { markStep, showCurve, showDerivation, showDiagram } from "./view.js";

const $ = (selector) => document.querySelector(selector);
const page = { state: primer(), losses: [], catalog: { activations: [], losses: [], optimizers: [] }, busy: false, generation: 0 };

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

function saveToUrl() {
  history.replaceState(null, "", toFragment(page.state));
}

function pick(id) {
  page.state.selected = id;
  saveToUrl();
  markStep($("#derivation"), id, true);
  drawDiagram().catch(showProblem);
}

async function drawDiagram() {
  const generation = page.generation;
  const chosen = highlightOf(page.state.selected);
  const body = { ...diagramBody(page.state, chosen?.highlight), point: chosen?.point ?? 0 };
  try {
    const svg = await postText("/v1/diagram", body, "image/svg+xml");
    if (generation === page.generation) showDiagram($("#diagram"), svg, pick);
  } catch (error) {
    if (chosen && error instanceof Problem) { // a step the diagram cannot mark (e.g. a batch's term): draw it unmarked
      const svg = await postText("/v1/diagram", diagramBody(page.state), "image/svg+xml");
      if (generation === page.generation) showDiagram($("#diagram"), svg, pick);
      return;
    }
    throw error;
  }
}

function showLoss(explained) {
  const loss = explained.steps.find((s) => s.id === "loss");
  const after = explained.steps.find((s) => s.id === "loss_after");
  $("#loss-value").textContent = loss ? `E = ${Number(loss.value.toPrecision(6))}` : "";
  $("#loss-value").dataset.value = loss ? String(loss.value) : "";
  $("#loss-after").textContent = after ? `→ ${Number(after.value.toPrecision(6))} after one step` : "";
}

/** Ask the service for the derivation and the diagram of the current state, and show both. */
async function refresh() {
  const generation = ++page.generation;
  saveToUrl();
  status("Computing…");
  try {
    const [explained] = await Promise.all([postJson("/v1/explain", explainBody(page.state)), drawDiagram()]);
    if (generation !== page.generation) return;
    clearProblem();
    showDerivation($("#derivation"), explained.rendered, pick);
    markStep($("#derivation"), page.state.selected, false);
    showLoss(explained);
    status(`${explained.steps.length} steps`);
  } catch (error) {
    if (generation === page.generation) {
      showProblem(error);
      status("");
    }
  }
}

function fromForm() {
  try {
    page.state = read($("#form"), page.state);
    return true;
  } catch (error) {
    showProblem(error);
    return false;
  }
}

function reload() {
  fill($("#form"), page.state, page.catalog);
  for (const box of document.querySelectorAll('input[name="show"]')) box.checked = page.state.show.includes(box.value);
  $("#digits").value = String(page.state.digits);
  showCurve($("#curve"), page.losses);
  return refresh();
}

async function busy(label, work) {
  if (page.busy) return;
  page.busy = true;
  for (const b of document.querySelectorAll(".toolbar button")) b.disabled = true;
  status(label);
  try {
    await work();
  } catch (error) {
    showProblem(error);
    status("");
  } finally {
    page.busy = false;
    for (const b of document.querySelectorAll(".toolbar button")) b.disabled = false;
  }
}

async function step() {
  if (!fromForm()) return;
  await busy("One step…", async () => {
    const result = await postJson("/v1/train-step", lossBody(page.state));
    page.losses.push(result.loss);
    page.state = { ...page.state, network: result.network, optimizer_state: result.optimizer_state };
    await reload();
  });
}

async function train() {
  if (!fromForm()) return;
  const epochs = Number($("#train-n").value);
  await busy(`Training ${epochs} steps…`, async () => {
    let failed = null;
    await postStream("/v1/train", trainBody(page.state, Number.isInteger(epochs) ? epochs : $("#train-n").value), (line) => {
      if (line.event === "epoch") {
        page.losses.push(...line.losses);
        showCurve($("#curve"), page.losses);
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
  const epochs = Number($("#train-n").value);
  await busy(`Training ${epochs} steps in the background…`, async () => {
    const body = trainBody(page.state, Number.isInteger(epochs) ? epochs : $("#train-n").value);
    const rows = (v) => (Array.isArray(v[0]) ? v : [v]); // a job trains on a dataset: one row per point, also for one point
    const job = await postJson("/v1/trainings", { ...body, x: rows(body.x), t: rows(body.t) });
    let end = null;
    await getStream(`/v1/trainings/${job.id}/events`, (line) => {
      if (line.event === "step") {
        page.losses.push(line.loss);
        showCurve($("#curve"), page.losses);
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

async function newNetwork() {
  const sizes = $("#sizes").value.split(/[\s,x×-]+/).filter(Boolean).map(Number);
  await busy("New weights…", async () => {
    if (sizes.length < 2 || !sizes.every((n) => Number.isInteger(n) && n > 0)) throw new FieldError("/sizes", "write the sizes as inputs-hidden-…-outputs, e.g. 2-3-2");
    const activations = sizes.slice(1).map((_, i) => (i === sizes.length - 2 ? "linear" : "tanh"));
    const seed = Number($("#seed").value) || 0;
    const answer = await postJson("/v1/networks/init", { sizes, activations, initializer: "glorot_uniform", bias: true, seed });
    const M = sizes[0], K = sizes.at(-1);
    const resize = (points, n, fillWith) => {
      const rows = Array.isArray(points[0]) ? points : [points];
      const fitted = rows.map((row) => Array.from({ length: n }, (_, i) => (typeof row[i] === "number" ? row[i] : fillWith)));
      return Array.isArray(points[0]) ? fitted : fitted[0];
    };
    page.state = { ...page.state, network: answer.network, x: resize(page.state.x, M, 1), t: resize(page.state.t, K, 0), optimizer_state: null, selected: null };
    page.losses = [];
    await reload();
  });
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
    const [activations, losses, optimizers] = await Promise.all(["/v1/activations", "/v1/losses", "/v1/optimizers"].map(getJson));
    page.catalog = { activations: activations.map((e) => e.name), losses: losses.map((e) => e.name), optimizers: optimizers.map((e) => e.name) };
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
  $("#step").addEventListener("click", step);
  $("#train").addEventListener("click", train);
  $("#train-background").addEventListener("click", trainInBackground);
  $("#reset").addEventListener("click", () => {
    page.state = primer();
    page.losses = [];
    reload();
  });
  $("#copy-json").addEventListener("click", () => fromForm() && copy(JSON.stringify(lossBody(page.state), null, 2), "The request (for /v1/train-step or /v1/explain)"));
  $("#copy-curl").addEventListener("click", () => {
    if (!fromForm()) return;
    const body = JSON.stringify({ ...lossBody(page.state), digits: page.state.digits, render: "text" });
    copy(`curl -s ${url("/v1/explain")} -H 'Content-Type: application/json' -d ${shellQuote(body)}`, "A curl command for /v1/explain");
  });
  $("#new-network").addEventListener("click", newNetwork);
  $("#api-key").addEventListener("change", () => {
    setApiKey($("#api-key").value);
    reload();
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
