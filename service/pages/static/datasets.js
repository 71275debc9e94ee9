// Two-dimensional datasets as TensorFlow Playground draws them (circle, XOR, two Gaussians, a spiral, a regression plane),
// in the square [−1, 1]², from a seed: the same recipe gives the same points, so a link keeps its data as the recipe.
// Labels are +1 and −1 (a regression: a value in [−1, 1]), for a tanh output and ½(y − t)².

/** mulberry32: a small seeded generator of uniform numbers in [0, 1). */
function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const uniform = (random, lo, hi) => lo + (hi - lo) * random();

function normal(random, mean, std) {
  const u = 1 - random(), v = random();
  return mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Each generator: n points [x₁, x₂, label] for noise in [0, 0.5]. */
export const KINDS = {
  circle(n, noise, random) {
    return Array.from({ length: n }, (_, i) => {
      const inside = i < n / 2;
      const r = inside ? uniform(random, 0, 0.5) : uniform(random, 0.7, 1), angle = uniform(random, 0, 2 * Math.PI);
      const x = r * Math.sin(angle), y = r * Math.cos(angle);
      return [x + uniform(random, -1, 1) * noise, y + uniform(random, -1, 1) * noise, inside ? 1 : -1];
    });
  },
  xor(n, noise, random) {
    return Array.from({ length: n }, () => {
      let x = uniform(random, -1, 1), y = uniform(random, -1, 1);
      x += x > 0 ? 0.05 : -0.05;
      y += y > 0 ? 0.05 : -0.05;
      return [x + uniform(random, -1, 1) * noise, y + uniform(random, -1, 1) * noise, x * y >= 0 ? 1 : -1];
    });
  },
  gauss(n, noise, random) {
    const std = 0.1 + noise * 0.6;
    return Array.from({ length: n }, (_, i) => {
      const label = i < n / 2 ? 1 : -1;
      return [normal(random, 0.4 * label, std), normal(random, 0.4 * label, std), label];
    });
  },
  spiral(n, noise, random) {
    return Array.from({ length: n }, (_, i) => {
      const label = i % 2 ? -1 : 1, j = Math.floor(i / 2), half = n / 2;
      const r = (j / half) * 0.9, angle = (1.75 * j * 2 * Math.PI) / half + (label > 0 ? 0 : Math.PI);
      return [r * Math.sin(angle) + uniform(random, -1, 1) * noise * 0.5, r * Math.cos(angle) + uniform(random, -1, 1) * noise * 0.5, label];
    });
  },
  plane(n, noise, random) {
    return Array.from({ length: n }, () => {
      const x = uniform(random, -1, 1), y = uniform(random, -1, 1);
      return [x, y, Math.max(-1, Math.min(1, (x + y) / 2 + uniform(random, -1, 1) * noise))];
    });
  },
};

const round = (v) => Number(v.toFixed(4)); // short in the requests and the link; the same numbers on every machine

/** The training and test points of a recipe {kind, noise, n, share, seed}: {train: {x, t}, test: {x, t}}, shuffled, then split. */
export function points(data) {
  const random = generator(data.seed);
  const all = KINDS[data.kind](data.n, data.noise, random);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  const cut = Math.max(1, Math.min(all.length - 1, Math.round(all.length * data.share)));
  const part = (rows) => ({ x: rows.map(([a, b]) => [round(a), round(b)]), t: rows.map(([, , label]) => [round(label)]) });
  return { train: part(all.slice(0, cut)), test: part(all.slice(cut)) };
}

/** The square the heat map covers: a little more than the points'. */
export const DOMAIN = [-1.2, 1.2];
