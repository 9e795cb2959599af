/** Standard input as the commands that read it see it. */

export class InputTooLargeError extends Error {
  override name = "InputTooLargeError";
}

/** All of `stream` as UTF-8, refusing more than `maxBytes`; "" without a stream. */
export async function readStandardInput(stream: NodeJS.ReadableStream | undefined, maxBytes: number): Promise<string> {
  if (!stream) return "";
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    length += buffer.length;
    if (length > maxBytes) {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      throw new InputTooLargeError(`Standard input is larger than ${maxBytes} bytes.`);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The non-blank lines of `input`, each without surrounding blanks (so CRLF and trailing spaces go). */
export function inputLines(input: string | undefined): string[] {
  return numberedLines(input).map(({ text }) => text);
}

/** The same, each with its line number in `input` (from 1). */
export function numberedLines(input: string | undefined): { line: number; text: string }[] {
  return (input ?? "")
    .split("\n")
    .map((raw, i) => ({ line: i + 1, text: raw.trim() }))
    .filter(({ text }) => text !== "");
}
