// The parent's side of bench/servers.ts: fork a stack, ask it things over IPC, stop them all.
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ServerReady, StackKind, StackOptions } from "./servers.ts";

export interface Child {
  process: ChildProcess;
  ready: ServerReady;
}

const children: ChildProcess[] = [];

/**
 * Forks the compiled servers.js beside this file and waits for its ServerReady.
 * BENCH_CPU_PROF=<dir> writes a V8 CPU profile of each child there when it exits.
 */
export function startChild(kind: StackKind, options: StackOptions, extra: { execArgv?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<Child> {
  const profileDir = process.env.BENCH_CPU_PROF;
  const child = fork(fileURLToPath(new URL("./servers.js", import.meta.url)), [kind, JSON.stringify(options)], {
    execArgv: [...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []), ...(extra.execArgv ?? [])],
    env: { ...process.env, ...extra.env },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} server did not start within 120 s`)), 120_000);
    child.once("message", (message) => {
      clearTimeout(timer);
      resolve({ process: child, ready: message as ServerReady });
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${kind} server exited with code ${code} before it was ready`));
    });
  });
}

/** The server process's CPU time so far (user + system), in µs. */
export async function serverCpuMicros(server: ChildProcess): Promise<number> {
  const { user, system } = (await ask(server, "cpu")) as NodeJS.CpuUsage;
  return user + system;
}

/** One request to a child's stack `handle` (one at a time per child). */
export async function askStack(server: ChildProcess, request: string, timeoutMs = 60_000): Promise<unknown> {
  const answer = (await ask(server, request, timeoutMs)) as { result?: unknown; error?: string };
  if (answer.error !== undefined) throw new Error(`the server could not answer ${request}: ${answer.error}`);
  return answer.result;
}

function ask(server: ChildProcess, request: string, timeoutMs = 5_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`a server did not answer "${request}"`)), timeoutMs);
    server.once("message", (answer) => {
      clearTimeout(timer);
      resolve(answer);
    });
    server.send(request);
  });
}

/** Disconnecting makes each child close its server and exit (see servers.ts). */
export function stopChildren(): void {
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const force = setTimeout(() => child.kill("SIGKILL"), 3_000);
    child.once("exit", () => clearTimeout(force));
    if (child.connected) child.disconnect();
  }
}
