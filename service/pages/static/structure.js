// Neurons and layers added or removed in place: every weight and bias that still has a place keeps its value;
// a new one comes from ``fresh``, a network of the new sizes drawn by /v1/networks/init (so the service draws it).
// A hidden neuron k of layer l is row k of W⁽ˡ⁾ (its inputs), b⁽ˡ⁾ₖ, and column k of W⁽ˡ⁺¹⁾ (its outputs).

const copy = (value) => JSON.parse(JSON.stringify(value));

function layerLike(old, weights, bias) {
  const { weights: _, bias: __, ...rest } = old;
  return { ...rest, weights, ...(bias ? { bias } : {}) };
}

/** The sizes after a change: ``l`` is the hidden layer (0-based) a neuron goes to or from, the layer a new one comes
 *  before, or the layer taken out. */
export function resized(sizes, change, l) {
  const out = [...sizes];
  if (change === "add-neuron") out[l + 1] += 1;
  if (change === "remove-neuron") out[l + 1] -= 1;
  if (change === "add-layer") out.splice(l + 1, 0, sizes[l]);
  if (change === "remove-layer") out.splice(l + 1, 1);
  return out;
}

/** Neuron K (the new last one) in hidden layer l: its input weights, bias and output weights from ``fresh``. */
export function addNeuron(network, l, fresh) {
  const layers = copy(network.layers);
  const here = layers[l], next = layers[l + 1], K = here.weights.length;
  here.weights.push(fresh.layers[l].weights[K]);
  if (here.bias) here.bias.push(fresh.layers[l].bias?.[K] ?? 0);
  next.weights.forEach((row, j) => row.push(fresh.layers[l + 1].weights[j][K]));
  return { layers };
}

/** The last neuron of hidden layer l, with its row of W⁽ˡ⁾, its bias and its column of W⁽ˡ⁺¹⁾. */
export function removeNeuron(network, l) {
  const layers = copy(network.layers);
  layers[l].weights.pop();
  layers[l].bias?.pop();
  layers[l + 1].weights.forEach((row) => row.pop());
  return { layers };
}

/** A new hidden layer before layer l, as wide as layer l's input (so layer l keeps its weights), drawn by ``fresh``. */
export function addLayer(network, l, fresh, activation = "tanh") {
  const layers = copy(network.layers);
  const drawn = fresh.layers[l];
  layers.splice(l, 0, { weights: drawn.weights, ...(layers[l].bias ? { bias: drawn.bias ?? drawn.weights.map(() => 0) } : {}), activation });
  return { layers };
}

/** Hidden layer l taken out: the layer after it takes its inputs' place, its columns kept where they still fit. */
export function removeLayer(network, l, fresh) {
  const layers = copy(network.layers);
  const [removed] = layers.splice(l, 1);
  const next = layers[l], M = l === 0 ? removed.weights[0].length : layers[l - 1].weights.length;
  const weights = next.weights.map((row, j) => Array.from({ length: M }, (_, m) => (m < row.length ? row[m] : fresh.layers[l].weights[j][m])));
  layers[l] = layerLike(next, weights, next.bias);
  return { layers };
}
