// A TypeScript program against the service, through types that openapi-typescript generated from
// openapi/openapi.json (default options) and openapi-fetch. tests/clients/test_generated_clients.py
// writes schema.d.ts and config.ts beside it, compiles it with `tsc --strict` and runs it with node;
// it prints one JSON object with what it got, and the test checks the numbers.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";
import { BASE_URL } from "./config.js";

type Network = components["schemas"]["Network"];
type Problem = components["schemas"]["Problem"];

const client = createClient<paths>({ baseUrl: BASE_URL });

// The primer's example (Figure 6): only what it needs; every field with a default is left out.
const network: Network = {
  layers: [
    { weights: [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], activation: "tanh" },
    { weights: [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], activation: "linear" },
  ],
};
const x = [1.0, 2.0];
const t = [1.0, 1.15];

function ok<T>(what: string, answer: { data?: T; error?: unknown; response: Response }): T {
  if (answer.data === undefined) {
    throw new Error(`${what}: ${answer.response.status} ${JSON.stringify(answer.error)}`);
  }
  return answer.data;
}

const backward = ok("backward", await client.POST("/v1/backward", { body: { network, x, t } }));

// Two Adam steps: the second sends the returned network and optimizer state back unchanged.
const step1 = ok("train_step 1", await client.POST("/v1/train-step", { body: { network, x, t, optimizer: { name: "adam" } } }));
const step2 = ok(
  "train_step 2",
  await client.POST("/v1/train-step", {
    body: { network: step1.network, x, t, optimizer: { name: "adam" }, optimizer_state: step1.optimizer_state },
  }),
);

const init = ok(
  "init_network",
  await client.POST("/v1/networks/init", { body: { sizes: [2, 3, 2], activations: ["tanh", "linear"], seed: 0 } }),
);
// The new network goes straight into a forward pass.
const forward = ok("forward", await client.POST("/v1/forward", { body: { network: init.network, x } }));

const losses = ok("list_losses", await client.GET("/v1/losses"));

// A bad request: x has 3 inputs but the network takes 2.
const bad = await client.POST("/v1/backward", { body: { network, x: [1.0, 2.0, 3.0], t } });
if (bad.error === undefined) {
  throw new Error(`a bad request answered ${bad.response.status}`);
}
const problem: Problem = bad.error;

console.log(
  JSON.stringify({
    backward,
    steps: [step1, step2],
    init,
    forward,
    losses: losses.map((entry) => entry.name),
    problem: { status: bad.response.status, type: problem.type, pointer: problem.errors[0].pointer },
  }),
);
