// The signed-in key: in sessionStorage only (gone with the tab; never in lasting browser storage, a cookie or a URL).

const STORAGE_NAME = "keyscope.console.key";

export function storedKey(): string | null {
  return sessionStorage.getItem(STORAGE_NAME);
}

export function storeKey(key: string): void {
  sessionStorage.setItem(STORAGE_NAME, key);
}

export function forgetKey(): void {
  sessionStorage.removeItem(STORAGE_NAME);
}
