export * from "./users.ts";
export * from "./api-keys.ts";
export * from "./key-secrets.ts";
export * from "./audit-events.ts";
export * from "./key-usage.ts";
