// Drives every public method of the official mem0 TypeScript SDK (mem0ai 3.3.1) against memportal.
// Usage: MEM0_TELEMETRY=false node client_methods.mjs <host> <apiKey> <foreignMemoryId>
// Prints one JSON line per method: {"method": ..., "ok": true, "result": ...} or {"ok": false, "status", "error"}.
import { MemoryClient } from "mem0ai";

const [host, apiKey, foreignId] = process.argv.slice(2);
const client = new MemoryClient({ apiKey, host });

async function step(method, call) {
  try {
    const result = await call();
    console.log(JSON.stringify({ method, ok: true, result }));
    return result;
  } catch (error) {
    const text = String(error && (error.message || error));
    console.log(JSON.stringify({ method, ok: false, error: text.slice(0, 400), html: /<html/i.test(text) }));
    return null;
  }
}

await step("ping", () => client.ping());
const added = await step("add", () => client.add([{ role: "user", content: "Dana prefers aisle seats" }],
  { userId: "dana", agentId: "travel", runId: "trip-1" }));
await step("add_second", () => client.add([{ role: "user", content: "Dana likes green tea" }], { userId: "dana" }));
const all = await step("getAll", () => client.getAll({ filters: { user_id: "dana" }, page: 1, pageSize: 10 }));
const ids = (all && all.results ? all.results : []).map((m) => m.id);
await step("search", () => client.search("seats", { filters: { user_id: "dana" } }));
await step("get", () => client.get(ids[0]));
await step("get_foreign", () => client.get(foreignId));
await step("update", () => client.update(ids[0], { text: "Dana prefers window seats" }));
await step("history", () => client.history(ids[0]));
await step("feedback", () => client.feedback({ memoryId: ids[0], feedback: "POSITIVE", feedbackReason: "right" }));
await step("batchUpdate", () => client.batchUpdate([{ memoryId: ids[1], text: "Dana likes jasmine tea" }]));
await step("users", () => client.users());
await step("getProject", () => client.getProject({ fields: [] }));
await step("updateProject", () => client.updateProject({ custom_instructions: "brief" }));
await step("createMemoryExport", () => client.createMemoryExport({ schema: {}, filters: { user_id: "dana" } }));
const hook = await step("createWebhook", () => client.createWebhook({ name: "crm", url: "http://127.0.0.1:9/hooks",
  eventTypes: ["memory_add", "memory_delete"] }));
await step("getWebhooks", () => client.getWebhooks({ projectId: client.projectId }));
await step("updateWebhook", () => client.updateWebhook({ webhookId: hook && hook.webhookId, name: "crm2",
  eventTypes: ["memory_update"] }));
await step("createWebhook_bad_url", () => client.createWebhook({ name: "x", url: "ftp://127.0.0.1/",
  eventTypes: ["memory_add"] }));
await step("deleteWebhook", () => client.deleteWebhook({ webhookId: hook && hook.webhookId }));
await step("getWebhooks_after", () => client.getWebhooks({ projectId: client.projectId }));
await step("getProfile", () => client.getProfile({ entityId: "dana" }));
await step("deleteUsers_no_args", () => client.deleteUsers());
await step("delete", () => client.delete(ids[0]));
await step("batchDelete", () => client.batchDelete([ids[1]]));
await step("deleteAll", () => client.deleteAll({ userId: "dana" }));
await step("getAll_after", () => client.getAll({ filters: { user_id: "dana" } }));
void added;
