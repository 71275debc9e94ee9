// The page's state: the network, the data, the loss and the optimizer, and how the diagram and derivation are shown.
// It lives in the URL fragment (#state=<base64url of the JSON>), so a link reproduces it exactly; a dataset is kept as
// its recipe (kind, noise, share, seed), from which datasets.js draws the same points again.

import { primer } from "./presets.js";

function toBase64Url(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64Url(text) {
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

/** The fragment for a state: JSON numbers print the shortest form that reads back to the same float64. */
export function toFragment(state) {
  return "#state=" + toBase64Url(JSON.stringify(state));
}

/** The state in a fragment, or null when there is none (a bad one throws). */
export function fromFragment(hash) {
  const match = /^#state=([A-Za-z0-9_-]+)$/.exec(hash);
  if (!match) return null;
  const state = JSON.parse(fromBase64Url(match[1]));
  if (!state || typeof state !== "object" || !state.network) throw new Error("the link's state has no network");
  return { ...primer(), ...state };
}

/** What /v1/train-step (and /v1/explain) take from the state: the body "Copy as JSON" gives. */
export function lossBody(state) {
  return {
    network: state.network,
    x: state.x,
    t: state.t,
    loss: state.loss,
    reduction: state.reduction,
    optimizer: state.optimizer,
    optimizer_state: state.optimizer_state,
  };
}

export function explainBody(state) {
  return { ...lossBody(state), digits: state.digits, render: "mathml", chain: state.chain ? "factors" : "compact" };
}

export function diagramBody(state, highlight, width) {
  const { optimizer, optimizer_state, ...body } = lossBody(state);
  return { ...body, show: state.show.length ? state.show : ["z"], digits: 2, ...(width ? { width } : {}), ...(highlight ? { highlight } : {}) };
}

/** /v1/train on x and t, one step per epoch (the whole of x is one batch), in order. */
export function trainBody(state, epochs) {
  return { ...lossBody(state), epochs, batch_size: null, shuffle: false, seed: 0 };
}

/** /v1/train on a dataset's training points: ``epochs`` more, shuffled with a seed of their own (the epochs before). */
export function dataTrainBody(state, points, epochs) {
  return {
    ...lossBody(state),
    x: points.x,
    t: points.t,
    epochs,
    batch_size: state.data.batch_size,
    shuffle: true,
    seed: state.epoch,
  };
}

/** The diagram's highlight for a step id of /v1/explain (a/0/0/2 → {quantity: "a", layer: 0, index: [2]} at point 0), or null.
 *  An update line lights up the gradient it follows (update/1/W/0/2 → ∂E/∂w⁽²⁾₁,₃), the loss after it the loss. */
export function highlightOf(id) {
  if (!id) return null;
  const [quantity, ...rest] = id.split("/");
  const n = rest.map(Number);
  switch (quantity) {
    case "a": case "z": case "delta":
      return { point: n[1], highlight: { quantity, layer: n[0], index: [n[2]] } };
    case "grad_weights":
      return n.length === 3 ? { point: 0, highlight: { quantity, layer: n[0], index: [n[1], n[2]] } } : null;
    case "grad_bias":
      return { point: 0, highlight: { quantity, layer: n[0], index: [n[1]] } };
    case "grad_x":
      return { point: n[0], highlight: { quantity, index: [n[1]] } };
    case "update":
      return rest[1] === "W"
        ? { point: 0, highlight: { quantity: "grad_weights", layer: n[0], index: [n[2], n[3]] } }
        : { point: 0, highlight: { quantity: "grad_bias", layer: n[0], index: [n[2]] } };
    case "loss": case "loss_after":
      return n.length === 0 ? { point: 0, highlight: { quantity: "loss", index: [] } } : null;
    default:
      return null;
  }
}
