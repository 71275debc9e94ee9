// The networks a learner starts from, each with its source and the numbers the source prints:
//   the primer's Figure 6 (its hand-rounded lines from primer-derivation.json, a copy of ../shared/seed/'s),
//   Mazur's worked example (mattmazur.com, "A Step by Step Backpropagation Example", 2015; biases fixed, as he keeps them),
//   XOR as TensorFlow Playground trains it (a dataset, a 2-4-1 tanh network drawn by /v1/networks/init, Adam).
// A mark says where the source's number agrees with the exact one at the source's own decimals, and where it differs.

const SHOW = ["z", "delta", "weights"];

/** The primer's 2-3-2 network (Figure 6), its x and t, and one SGD step of η = 0.1. */
export function primer() {
  return {
    preset: "primer",
    network: {
      layers: [
        { weights: [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], activation: "tanh" },
        { weights: [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], activation: "linear" },
      ],
    },
    x: [1.0, 2.0],
    t: [1.0, 1.15],
    loss: "half_sse",
    reduction: "sum",
    optimizer: { name: "sgd", learning_rate: 0.1 },
    optimizer_state: null,
    digits: 4,
    chain: false,
    show: SHOW,
    selected: null,
    data: null,
    point: 0,
    epoch: 0,
    log_scale: true,
  };
}

/** Mazur's 2-2-2 sigmoid network, inputs 0.05, 0.10, targets 0.01, 0.99, η = 0.5; he updates the weights, not the biases. */
export function mazur() {
  return {
    ...primer(),
    preset: "mazur",
    network: {
      layers: [
        { weights: [[0.15, 0.2], [0.25, 0.3]], bias: [0.35, 0.35], activation: "sigmoid", train_bias: false },
        { weights: [[0.4, 0.45], [0.5, 0.55]], bias: [0.6, 0.6], activation: "sigmoid", train_bias: false },
      ],
    },
    x: [0.05, 0.1],
    t: [0.01, 0.99],
    optimizer: { name: "sgd", learning_rate: 0.5 },
    digits: 9,
    chain: true,
  };
}

/** XOR in [−1, 1]², 200 points, half for training; a 2-4-1 tanh network (its weights: ``init``), Adam η = 0.05, batches of 10. */
export function xor() {
  return {
    ...primer(),
    preset: "xor",
    network: null,
    init: { sizes: [2, 4, 1], activations: ["tanh", "tanh"], initializer: "glorot_uniform", bias: true, seed: 2 },
    x: null, // the explained training point: drawn from the data
    t: null,
    reduction: "mean",
    optimizer: { name: "adam", learning_rate: 0.05 },
    show: ["z", "weights"],
    data: { kind: "xor", noise: 0, n: 200, share: 0.5, seed: 1, batch_size: 10 },
  };
}

export const PRESETS = { primer, mazur, xor };

export const SOURCES = {
  primer: "The backpropagation primer's Figure 6 (§4–§5). Marked lines: the primer's own hand-rounded numbers beside the exact ones.",
  mazur: "Matt Mazur, “A Step by Step Backpropagation Example” (2015): his 2-2-2 network, biases held fixed (train_bias false), "
    + "η = 0.5, at his 9 digits, the chain rule factor by factor.",
  xor: "TensorFlow Playground's XOR: press Play; the heat map is the service's forward pass over the square.",
};

/** Mazur's published numbers, by the step that computes them. */
const MAZUR = [
  ["z/0/0/0", "out_h1 = 0.593269992", 0.593269992],
  ["z/1/0/0", "out_o1 = 0.75136507", 0.75136507],
  ["loss", "E_total = 0.298371109", 0.298371109],
  ["grad_weights/1/0/0", "∂E_total/∂w5 = 0.082167041", 0.082167041],
  ["grad_weights/0/0/0", "∂E_total/∂w1 = 0.000438568", 0.000438568],
  ["update/1/W/0/0", "w5⁺ = 0.35891648", 0.35891648],
  ["update/1/W/0/1", "w6⁺ = 0.408666186", 0.408666186],
  ["update/1/W/1/0", "w7⁺ = 0.511301270", 0.51130127],
  ["update/1/W/1/1", "w8⁺ = 0.561370121", 0.561370121],
  ["update/0/W/0/0", "w1⁺ = 0.149780716", 0.149780716],
  ["loss_after", "after the step: 0.291027924 (he rounds along the way; torch, too, gives 0.291027774)", 0.291027924],
];

function decimals(text) {
  const last = [...text.matchAll(/−?\d+\.(\d+)/g)].at(-1);
  return last ? last[1].length : 0;
}

/** A step id of Figure 6's derivation for one of the primer's lines (its symbol, as primer-derivation.json writes it). */
export function primerStep(symbol) {
  const digits = (text) => [...text].map((c) => "₀₁₂₃₄₅₆₇₈₉⁰¹²³⁴⁵⁶⁷⁸⁹".indexOf(c) % 10);
  let m = /^δ([₀-₉])⁽([⁰¹²³⁴⁵⁶⁷⁸⁹])⁾/.exec(symbol);
  if (m) return `delta/${digits(m[2])[0] - 1}/0/${digits(m[1])[0] - 1}`;
  m = /^∂E\/∂w([₀-₉]),([₀-₉])⁽([⁰¹²³⁴⁵⁶⁷⁸⁹])⁾/.exec(symbol);
  if (m) return `grad_weights/${digits(m[3])[0] - 1}/${digits(m[1])[0] - 1}/${digits(m[2])[0] - 1}`;
  m = /^∂a([₀-₉])⁽([⁰¹²³⁴⁵⁶⁷⁸⁹])⁾\/∂w([₀-₉]),([₀-₉])/.exec(symbol);
  if (m) return `grad_weights/${digits(m[2])[0] - 1}/${digits(m[3])[0] - 1}/${digits(m[4])[0] - 1}`;
  m = /^(?:∂a[₀-₉]⁽([⁰¹²³⁴⁵⁶⁷⁸⁹])⁾\/∂[az]|ḣ⁽([⁰¹²³⁴⁵⁶⁷⁸⁹])⁾\(a)([₀-₉])/.exec(symbol);
  if (m) return `delta/${m[1] ? digits(m[1])[0] - 2 : digits(m[2])[0] - 1}/0/${digits(m[3])[0] - 1}`;
  return null;
}

/** The marks of a preset: {step, source, text, value, decimals, exact?}, for the primer from its derivation file (its
 *  ``exact``: the line's own exact number, which may be a part of the step, as ḣ is of δ); else the step's value is the exact one. */
export function marks(preset, primerLines) {
  if (preset === "mazur") return MAZUR.map(([step, text, value]) => ({ step, source: "Mazur", text, value, decimals: decimals(text.split(" (")[0]) }));
  if (preset === "primer") {
    return primerLines
      .map((line) => ({ step: primerStep(line.symbol), source: `primer §${line.section}`, text: line.primer, value: line.primer_value,
        decimals: decimals(line.primer), exact: line.exact }))
      .filter((mark) => mark.step);
  }
  return [];
}

/** Whether the state is still the preset's own network, data and optimizer (its source's numbers apply only then). */
export function intact(state) {
  if (!PRESETS[state.preset]) return false;
  const own = PRESETS[state.preset]();
  const same = (key) => own[key] === null || JSON.stringify(own[key]) === JSON.stringify(state[key]); // null: drawn when it starts
  return ["network", "x", "t", "loss", "reduction", "optimizer"].every(same) && (!state.optimizer_state || !!state.data);
}

/** Whether the source's number is the exact one rounded to the source's decimals. */
export function agrees(mark, exact) {
  const scale = 10 ** mark.decimals;
  return Math.abs(Math.round(exact * scale) / scale - mark.value) < 0.5 / scale;
}
