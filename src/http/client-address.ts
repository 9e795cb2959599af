/**
 * The client's address: the socket's, or with `trustedHops` proxies in front, the entry of
 * X-Forwarded-For that the outermost trusted proxy wrote. Entries further left are the client's
 * own claims and are never trusted.
 */
export function clientAddress(socketAddress: string | undefined, forwardedFor: string | string[] | undefined, trustedHops: number): string | null {
  if (trustedHops > 0 && forwardedFor !== undefined) {
    const entries = [forwardedFor].flat().join(",").split(",").map((e) => e.trim()).filter(Boolean);
    const chosen = entries[entries.length - trustedHops];
    if (chosen) return chosen;
    if (entries.length > 0) return entries[0]!; // fewer entries than proxies: the first is the client
  }
  return socketAddress ?? null;
}
