// Drives every public method of the official mem0 TypeScript SDK (mem0ai 3.3.1) against memportal.
// Usage: MEM0_TELEMETRY=false node client_methods.mjs <host> <apiKey> <foreignMemoryId>
//        node client_methods.mjs --list   (only prints the client's public methods)
// Prints {"methods": [...]} (the prototype's public methods, for the compatibility table), then one
// JSON line per step: {"method": ..., "ok": true, "result": ...} or {"ok": false, "status", "detail", "html"}.
// A step named exactly like a method is that method's status; "method:case" steps are notes, "setup:…" prepare.
import { MemoryClient } from "mem0ai";

const methods = Object.getOwnPropertyNames(MemoryClient.prototype)
  .filter((n) => n !== "constructor" && !n.startsWith("_") && typeof MemoryClient.prototype[n] === "function");
console.log(JSON.stringify({ methods }));
if (process.argv[2] === "--list") process.exit(0);

const [host, apiKey, foreignId] = process.argv.slice(2);
const client = new MemoryClient({ apiKey, host });

// The server's JSON {"detail": ...}, also when the SDK wraps it ("Failed to delete app x: {...}").
function detailOf(text) {
  const at = text.indexOf("{");
  if (at < 0) return null;
  try {
    const body = JSON.parse(text.slice(at));
    return text.slice(0, at) + String(body.detail ?? body.error ?? "");
  } catch {
    return null;
  }
}

async function step(method, call) {
  try {
    const result = await call();
    console.log(JSON.stringify({ method, ok: true, result }));
    return result;
  } catch (error) {
    const text = String(error && (error.message || error));
    const code = error && error.errorCode ? Number(String(error.errorCode).replace("HTTP_", "")) : null;
    const detail = detailOf(text);
    console.log(JSON.stringify({ method, ok: false, status: Number.isFinite(code) ? code : null,
      error: text.slice(0, 400), detail: (detail ?? text).slice(0, 300), json: detail !== null,
      html: /<html/i.test(text) }));
    return null;
  }
}

await step("ping", () => client.ping());
const added = await step("add", () => client.add([{ role: "user", content: "Dana prefers aisle seats" }],
  { userId: "dana", agentId: "travel", runId: "trip-1" }));
await step("add:second memory", () => client.add([{ role: "user", content: "Dana likes green tea" }], { userId: "dana" }));
const all = await step("getAll", () => client.getAll({ filters: { user_id: "dana" }, page: 1, pageSize: 10 }));
const ids = (all && all.results ? all.results : []).map((m) => m.id);
await step("search", () => client.search("seats", { filters: { user_id: "dana" } }));
await step("get", () => client.get(ids[0]));
await step("get:another tenant's memory id", () => client.get(foreignId));
await step("update", () => client.update(ids[0], { text: "Dana prefers window seats" }));
await step("history", () => client.history(ids[0]));
await step("feedback", () => client.feedback({ memoryId: ids[0], feedback: "POSITIVE", feedbackReason: "right" }));
await step("batchUpdate", () => client.batchUpdate([{ memoryId: ids[1], text: "Dana likes jasmine tea" }]));
await step("users", () => client.users());
await step("getProject", () => client.getProject({ fields: [] }));
await step("updateProject", () => client.updateProject({ custom_instructions: "brief" }));
const exported = await step("createMemoryExport", () => client.createMemoryExport({ schema: {},
  filters: { user_id: "dana" } }));
await step("getMemoryExport", () => client.getMemoryExport({ memoryExportId: exported && exported.id }));
const hook = await step("createWebhook", () => client.createWebhook({ name: "compat", url: "http://127.0.0.1:9/hook",
  eventTypes: ["memory_add"] }));
const hookId = String((hook && (hook.webhookId ?? hook.id)) ?? "1");
await step("getWebhooks", () => client.getWebhooks({ projectId: client.projectId }));
await step("updateWebhook", () => client.updateWebhook({ webhookId: hookId, name: "compat-renamed" }));
await step("createWebhook:bad url", () => client.createWebhook({ name: "x", url: "ftp://127.0.0.1/",
  eventTypes: ["memory_add"] }));
await step("deleteWebhook", () => client.deleteWebhook({ webhookId: hookId }));
await step("getWebhooks:after delete", () => client.getWebhooks({ projectId: client.projectId }));
await step("getProfile", () => client.getProfile({ entityId: "dana" }));
await step("generateProfile", () => client.generateProfile({ entityId: "dana" }));
await step("getProfileJob", () => client.getProfileJob("job-1"));
await step("getProfileSettings", () => client.getProfileSettings());
await step("updateProfileSettings", () => client.updateProfileSettings({ enabled: true }));
await step("sampleProfiles", () => client.sampleProfiles({ limit: 1 }));
await step("deleteUsers:no arguments", () => client.deleteUsers());
await step("setup:add erin", () => client.add([{ role: "user", content: "Erin likes jazz" }], { userId: "erin" }));
await step("deleteUsers", () => client.deleteUsers({ userId: "erin" }));
await step("setup:add fay", () => client.add([{ role: "user", content: "Fay likes rock" }], { userId: "fay" }));
// Deprecated; typed as a numeric platform id, which memportal's entities are not: the app's own id works.
await step("deleteUser", () => client.deleteUser({ entity_id: "fay", entity_type: "user" }));
await step("delete", () => client.delete(ids[0]));
await step("batchDelete", () => client.batchDelete([ids[1]]));
await step("deleteAll", () => client.deleteAll({ userId: "dana" }));
await step("getAll:after deleteAll", () => client.getAll({ filters: { user_id: "dana" } }));
void added;
