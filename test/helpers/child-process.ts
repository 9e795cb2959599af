import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

/** The repository root: children run from here, as `npm start` and `npx keyscope` do. */
export const projectRoot = fileURLToPath(new URL("../../", import.meta.url));

/** A child's environment built from nothing: PATH and HOME, plus what the test sets. */
export function minimalEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...extra };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningNode {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once the child has exited; rejects (after killing it) when it takes longer than `ms`. */
  exited(ms: number): Promise<Exit>;
  /** Resolves with the first stdout line that matches; rejects when the child exits first or after `ms`. */
  waitForLine(match: (line: string) => boolean, ms: number): Promise<string>;
  /** SIGKILL unless it has exited; safe to call twice. */
  kill(): void;
}

const running = new Set<RunningNode>();

/**
 * `node <args>` in the project root with exactly `env`, and `input` (if given) as its whole
 * standard input. Kill it, or call `killAll()` in afterEach.
 */
export function spawnNode(args: string[], env: Record<string, string>, input?: string): RunningNode {
  const child = spawn(process.execPath, args, { cwd: projectRoot, env, stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
  if (input !== undefined) child.stdin!.on("error", () => {}).end(input); // a child may exit before reading it
  let out = "";
  let err = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
  // "close", not "exit": by then both pipes are drained.
  const closed = new Promise<Exit>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code, signal, stdout: out, stderr: err }));
  });
  closed.catch(() => {});
  const alive = () => child.exitCode === null && child.signalCode === null;

  const handle: RunningNode = {
    child,
    stdout: () => out,
    stderr: () => err,
    exited: (ms) =>
      new Promise<Exit>((resolve, reject) => {
        const timer = setTimeout(() => {
          handle.kill();
          reject(new Error(`node ${args.join(" ")} did not exit within ${ms} ms.\nstdout: ${out}\nstderr: ${err}`));
        }, ms);
        closed.then(
          (exit) => {
            clearTimeout(timer);
            resolve(exit);
          },
          (error: unknown) => {
            clearTimeout(timer);
            reject(error);
          },
        );
      }),
    waitForLine: (match, ms) =>
      new Promise<string>((resolve, reject) => {
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          child.stdout!.off("data", look);
          settle();
        };
        const look = () => {
          const line = out.split("\n").find((l) => l !== "" && match(l));
          if (line !== undefined) finish(() => resolve(line));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`no matching line within ${ms} ms.\nstdout: ${out}\nstderr: ${err}`))), ms);
        child.stdout!.on("data", look);
        closed.then(
          () => finish(() => reject(new Error(`exited before a matching line.\nstdout: ${out}\nstderr: ${err}`))),
          (error: unknown) => finish(() => reject(error)),
        );
        look();
      }),
    kill: () => {
      running.delete(handle);
      if (alive()) child.kill("SIGKILL");
    },
  };
  running.add(handle);
  closed.then(() => running.delete(handle), () => running.delete(handle));
  return handle;
}

/** Runs `node <args>` to the end (killed after `ms`), with `input` as its standard input. */
export function runNode(args: string[], env: Record<string, string>, ms = 30_000, input?: string): Promise<Exit> {
  return spawnNode(args, env, input).exited(ms);
}

/** Kills every child spawned here that is still running (for afterEach). */
export function killAll(): void {
  for (const handle of [...running]) handle.kill();
}

/** A port that was free a moment ago: bound on port 0, then released. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A pid no process has: checked, not assumed. */
export function deadPid(): number {
  for (let pid = 999_999; pid > 1; pid -= 7919) {
    try {
      process.kill(pid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ESRCH") return pid;
    }
  }
  throw new Error("could not find an unused pid");
}
