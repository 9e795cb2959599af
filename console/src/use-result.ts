// Loads one API result for a page and reloads it on demand or when its inputs change.
import { useCallback, useEffect, useState } from "preact/hooks";
import type { ApiError, Result } from "./api.ts";

export type Loaded<T> =
  | { state: "loading"; reload: () => void }
  | { state: "ok"; data: T; reload: () => void }
  | { state: "failed"; errors: ApiError[]; reload: () => void };

export function useResult<T>(load: () => Promise<Result<T>>, inputs: readonly unknown[]): Loaded<T> {
  const [result, setResult] = useState<Result<T> | undefined>(undefined);
  const [generation, setGeneration] = useState(0);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  useEffect(() => {
    let current = true;
    load().then((r) => current && setResult(r));
    return () => {
      current = false;
    };
  }, [...inputs, generation]);
  if (!result) return { state: "loading", reload };
  return result.ok ? { state: "ok", data: result.data, reload } : { state: "failed", errors: result.errors, reload };
}
