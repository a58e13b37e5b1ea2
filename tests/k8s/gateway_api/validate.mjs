// Validates Gateway API v1 objects (a JSON array on stdin) against the Gateway API schema, as
// compiled by @kubernetes-models/gateway-api from the project's CRDs. Prints one line per problem
// ("Kind/name: path message") and exits 1 if there is any; an unknown kind is a problem.
import { Gateway } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway";
import { HTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute";

const models = {
  "gateway.networking.k8s.io/v1/Gateway": Gateway,
  "gateway.networking.k8s.io/v1/HTTPRoute": HTTPRoute,
};

let input = "";
for await (const chunk of process.stdin) input += chunk;
const problems = [];
for (const object of JSON.parse(input)) {
  const where = `${object.kind}/${object.metadata?.name}`;
  const Model = models[`${object.apiVersion}/${object.kind}`];
  if (!Model) {
    problems.push(`${where}: no Gateway API v1 schema for ${object.apiVersion} ${object.kind}`);
    continue;
  }
  try {
    new Model(object).validate();
  } catch (error) {
    problems.push(`${where}: ${error.message}`);
  }
}
for (const line of problems) console.log(line);
process.exit(problems.length ? 1 : 0);
