// A minimal Lambda runtime loop for the handler (what the managed nodejs
// runtime's interface client does): next → handler → response, over one
// keep-alive connection to the Runtime API.
import http from "node:http";
import { handler } from "./handler.mjs";

const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const call = (method, path, body) => new Promise((resolve, reject) => {
  const request = http.request({ host, port, method, path: `/2018-06-01/runtime/${path}`, agent }, (response) => {
    const chunks = [];
    response.on("data", (c) => chunks.push(c));
    response.on("end", () => resolve({ headers: response.headers, body: Buffer.concat(chunks).toString() }));
  });
  request.on("error", reject);
  if (body !== undefined) request.write(body);
  request.end();
});

for (;;) {
  const next = await call("GET", "invocation/next");
  const id = next.headers["lambda-runtime-aws-request-id"];
  try {
    const result = await handler(JSON.parse(next.body));
    await call("POST", `invocation/${id}/response`, JSON.stringify(result));
  } catch (e) {
    await call("POST", `invocation/${id}/error`, JSON.stringify({ errorType: e.name, errorMessage: String(e.message) }));
  }
}
