// The decision boundary as a heat map: the service's forward pass (POST /v1/forward) on a grid over the input square,
// the output neuron drawn large with the data points on it, and each neuron's z as a thumbnail in the diagram.
// Orange −1, white 0, blue +1 (Playground's colours); a neuron whose z is not in [−1, 1] is scaled to its own range.

import { DOMAIN } from "./datasets.js";

export const GRID = 30; // 900 points: one /v1/forward within max_batch_rows
const NEGATIVE = [245, 147, 34], MIDDLE = [232, 234, 235], POSITIVE = [8, 119, 189];

/** The grid's points, row by row from the top (x₂ high) down, each row left to right (x₁ low to high). */
export function gridPoints(n = GRID) {
  const [lo, hi] = DOMAIN, step = (hi - lo) / (n - 1), rows = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) rows.push([Number((lo + j * step).toFixed(6)), Number((hi - i * step).toFixed(6))]);
  return rows;
}

export function colour(v) {
  const c = Math.max(-1, Math.min(1, v));
  const [from, to, f] = c < 0 ? [MIDDLE, NEGATIVE, -c] : [MIDDLE, POSITIVE, c];
  return from.map((a, i) => Math.round(a + (to[i] - a) * f));
}

/** A neuron's values mapped to [−1, 1]: as they are when they lie in it, else scaled to their own range. */
function normalised(values) {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (lo >= -1 && hi <= 1) return values;
  const span = hi - lo || 1;
  return values.map((v) => (2 * (v - lo)) / span - 1);
}

function image(values, n, context) {
  const picture = context.createImageData(n, n);
  normalised(values).forEach((v, i) => {
    const [r, g, b] = colour(v);
    picture.data.set([r, g, b, 255], 4 * i);
  });
  return picture;
}

/** The output over the square, large, with the points on it (training: white ring, test: dark ring). */
export function drawHeatmap(canvas, values, data) {
  const small = document.createElement("canvas");
  small.width = small.height = GRID;
  small.getContext("2d").putImageData(image(values, GRID, small.getContext("2d")), 0, 0);
  const context = canvas.getContext("2d");
  context.imageSmoothingEnabled = true;
  context.drawImage(small, 0, 0, canvas.width, canvas.height);
  const [lo, hi] = DOMAIN;
  const at = (x, y) => [((x - lo) / (hi - lo)) * canvas.width, ((hi - y) / (hi - lo)) * canvas.height];
  for (const [set, ring] of [[data.train, "#ffffff"], [data.test, "#1c2430"]]) {
    set.x.forEach(([x, y], i) => {
      const [px, py] = at(x, y);
      const [r, g, b] = colour(set.t[i][0]);
      context.beginPath();
      context.arc(px, py, 3.2, 0, 2 * Math.PI);
      context.fillStyle = `rgb(${r},${g},${b})`;
      context.fill();
      context.lineWidth = 1.2;
      context.strokeStyle = ring;
      context.stroke();
    });
  }
  canvas.dataset.lo = String(lo);
  canvas.dataset.hi = String(hi);
}

/** Each neuron's z over the square as a small image (a data: URL), by diagram id (n-l-k). */
export function thumbnails(forward) {
  const out = {};
  const small = document.createElement("canvas");
  small.width = small.height = GRID;
  const context = small.getContext("2d");
  forward.layers.forEach((layer, l) => {
    const K = layer.z[0].length;
    for (let k = 0; k < K; k++) {
      context.putImageData(image(layer.z.map((row) => row[k]), GRID, context), 0, 0);
      out[`n-${l}-${k}`] = small.toDataURL("image/png");
    }
  });
  return out;
}
