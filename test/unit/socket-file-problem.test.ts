// The CLI's check of the operator socket before it sends anything (issue 13 §1). Node cannot read
// the peer's credentials, so the file's type, owner and mode are what keeps others out.
import { describe, expect, it } from "vitest";
import { socketFileProblem } from "../../src/cli/operator-client.ts";

const PATH = "/srv/keyscope/data/keyscope.sock";
const stat = (mode: number, uid: number, socket = true) => ({ mode: (socket ? 0o140000 : 0o100000) | mode, uid, isSocket: () => socket });

describe("socketFileProblem", () => {
  it("accepts a socket of this user with mode 0600 (or tighter)", () => {
    for (const mode of [0o600, 0o700, 0o400, 0o200]) expect(socketFileProblem(PATH, stat(mode, 1000), 1000)).toBeUndefined();
  });

  it("refuses every mode that gives group or others any bit, naming the mode", () => {
    for (let bits = 1; bits <= 0o77; bits++) {
      const mode = 0o600 | bits;
      const problem = socketFileProblem(PATH, stat(mode, 1000), 1000);
      expect(problem, mode.toString(8)).toContain(`${PATH} has mode 0${mode.toString(8)}: group or others may use it`);
    }
  });

  it("refuses a socket owned by another user, naming both", () => {
    expect(socketFileProblem(PATH, stat(0o600, 0), 1000)).toBe(
      `${PATH} belongs to uid 0, not to you (uid 1000): it may not be your server's. Run the command as the user that runs the server.`,
    );
    expect(socketFileProblem(PATH, stat(0o600, 1001), 1000)).toMatch(/belongs to uid 1001, not to you \(uid 1000\)/);
  });

  it("refuses what is not a socket", () => {
    expect(socketFileProblem(PATH, stat(0o600, 1000, false), 1000)).toBe(`${PATH} is not a socket.`);
  });

  it("without user ids (not a POSIX system) only the type and mode are checked", () => {
    expect(socketFileProblem(PATH, stat(0o600, 1234), undefined)).toBeUndefined();
    expect(socketFileProblem(PATH, stat(0o666, 1234), undefined)).toMatch(/mode 0666/);
  });
});
