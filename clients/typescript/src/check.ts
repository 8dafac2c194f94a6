// A client written the way a client team would, against types generated from the live
// /api/schema/ (src/schema.d.ts, made by `npm run generate`). Compiled with `tsc --strict`
// and run against a live server by scripts/client-check: every step asserts what it gets, and
// any type error, failed assertion or exception fails CI.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Stream = components["schemas"]["CrowdfundedLiveStream"];
type Receipt = components["schemas"]["FundingReceipt"];

const baseUrl = process.env.API_URL ?? "http://127.0.0.1:8000";
const username = process.env.API_USERNAME ?? "demo";
const password = process.env.API_PASSWORD ?? "allmine-demo-2026";

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`client check failed: ${message}`);
}

const api = createClient<paths>({ baseUrl });

// 1. Sign in. `data` is typed: no `unknown`, no optional fields that are always sent.
const login = await api.POST("/api/v1/auth/login", { body: { username, password } });
check(login.response.status === 200, `login answered ${login.response.status}`);
check(login.data !== undefined, "login has no body");
const session = login.data.data;
check(login.data.isSuccess, "login envelope is not a success");
check(login.data.errors.length === 0, "a success has errors");
check(session.expiresIn === 3600, `expiresIn is ${session.expiresIn}`);
const photo: components["schemas"]["Media"] | null = session.user.profilePhoto;
console.log(`signed in as ${session.user.username} (photo: ${photo === null ? "none" : photo.url})`);
check(login.response.headers.get("X-Request-ID") !== null, "no X-Request-ID");

const headers = { Authorization: `Bearer ${session.accessToken}` };

// 2. The funded list: `data` is an array of stream objects, the total in X-Total-Count.
const funded = await api.GET("/api/v1/live-stream/funded", {
  params: { query: { page: 1, limit: 100 } },
  headers,
});
check(funded.response.status === 200, `funded list answered ${funded.response.status}`);
check(funded.data !== undefined, "funded list has no body");
const streams: Stream[] = funded.data.data;
const total = Number(funded.response.headers.get("X-Total-Count"));
check(total === streams.length, `X-Total-Count ${total} for ${streams.length} streams`);
check(streams.length > 0, "the demo user has funded no stream");
for (const stream of streams) {
  check(stream.status === "scheduled", `${stream.id} is ${stream.status}`);
  check(stream.accessType === (stream.price !== null && stream.price > 0 ? "paid" : "free"),
    `${stream.id}: accessType ${stream.accessType} with price ${stream.price}`);
  const role: "host" | "guest" | "audience" | null = stream.role;
  check(role === "audience" || role === "guest", `${stream.id}: role ${role}`);
}
const target = streams[0];
check(target !== undefined, "no stream to fund");
console.log(`funded list: ${streams.length} streams; funding ${target.id} "${target.title}"`);

// 3. Fund it with an Idempotency-Key; the retry is answered from the first response.
const key = `client-check-${Date.now()}`;
const fund = (amount: number) =>
  api.POST("/api/v1/live-stream/{id}/fund", {
    params: { path: { id: target.id }, header: { "Idempotency-Key": key } },
    body: { amount },
    headers,
  });
const first = await fund(1);
check(first.response.status === 201, `fund answered ${first.response.status}`);
check(first.data !== undefined, "fund has no body");
const receipt: Receipt = first.data.data;
check(first.data.statusCode === 201, "statusCode is not 201");
check(receipt.streamId === target.id && receipt.amount === 1, "wrong receipt");
check(receipt.collectedFunding === target.collectedFunding + 1, "collectedFunding did not grow");
const retry = await fund(1);
check(retry.response.status === 201, `retry answered ${retry.response.status}`);
check(retry.response.headers.get("Idempotent-Replayed") === "true", "retry not replayed");
check(retry.data?.data.contributionId === receipt.contributionId, "retry charged again");
console.log(`funded: contribution ${receipt.contributionId}, balance ${receipt.creditBalance}`);

// 4. Errors are typed apart from successes: `data` is null and errors[0] the standard message.
type ErrorEnvelope = { isSuccess: false; statusCode: number; data: null; errors: string[] };
function checkError(
  what: string,
  result: { error?: ErrorEnvelope; response: Response },
  status: number,
  first: string,
) {
  check(result.response.status === status, `${what}: ${result.response.status}, not ${status}`);
  check(result.error !== undefined, `${what}: no error body`);
  check(result.error.isSuccess === false && result.error.data === null, `${what}: not an error`);
  check(result.error.statusCode === status, `${what}: statusCode ${result.error.statusCode}`);
  check(result.error.errors[0] === first, `${what}: errors[0] is ${result.error.errors[0]}`);
  console.log(`${what}: ${status} ${JSON.stringify(result.error.errors)}`);
}

const noToken = await api.GET("/api/v1/live-stream/funded");
checkError("no token", noToken, 401, "Authentication required");
check(noToken.response.headers.get("WWW-Authenticate") !== null, "401 without WWW-Authenticate");

const zero = await api.POST("/api/v1/live-stream/{id}/fund", {
  params: { path: { id: target.id } },
  body: { amount: 0 },
  headers,
});
checkError("amount 0", zero, 400, "Validation failed");

const reused = await fund(2);
checkError(
  "same Idempotency-Key, another body",
  reused,
  409,
  "Resource already exists or cannot be changed in its current state",
);

console.log("client check: OK");
