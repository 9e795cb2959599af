import type { KeyscopeConfig } from "../config.ts";
import { maskCandidate, triageKey, type Triage } from "../keys/key-scanning.ts";
import type { CommandArgs, CommandShape, Output } from "./commands.ts";
import { printed } from "./printable.ts";
import { numberedLines } from "./standard-input.ts";

/** A command that needs no database, no server and no socket: the configuration alone. */
export interface OfflineCommand extends CommandShape {
  run(config: KeyscopeConfig, args: CommandArgs): Output;
}

const VERDICTS: Record<Triage, (prefix: string) => string> = {
  VALID: () => "a Keyscope key of this server (format and checksum valid): if it leaked, revoke it with `keyscope keys revoke-secret`",
  BAD_CHECKSUM: () => "the shape of a Keyscope key, but the checksum fails: a typo, a truncated copy or not a real key",
  MALFORMED: (prefix) => `begins with '${prefix}_' but has the wrong length or characters: not a Keyscope key`,
  OTHER_PREFIX: (prefix) => `a valid Keyscope key with another prefix (this server's is '${prefix}')`,
  NOT_A_KEY: () => "not in Keyscope's key format (it could still be an imported key's value)",
};

export const offlineCommands: Record<string, OfflineCommand> = {
  "keys check": {
    email: false,
    positionals: 0,
    stdin: "lines",
    run(config, { input }) {
      const prefix = config.keyPrefix;
      const results = numberedLines(input).map(({ line, text: candidate }) => {
        const verdict = triageKey(candidate, prefix);
        return { line, masked: maskCandidate(candidate, prefix), length: candidate.length, verdict, message: VERDICTS[verdict](prefix) };
      });
      return {
        json: results,
        text: results.map((r) => printed`${r.line}: ${r.masked} (${r.length} characters): ${r.verdict}: ${r.message}`).join("\n"),
      };
    },
  },
};
