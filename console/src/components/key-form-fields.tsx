import type { ComponentChildren } from "preact";
import type { ApiError } from "../api.ts";
import { EXPIRY_CHOICES } from "../constants.ts";
import { dateInputValue, dateTime } from "../format.ts";
import type { KeyFormValues } from "../key-form.ts";
import type { Caller } from "../types.ts";
import { fieldError } from "./errors.tsx";
import { Field, FieldSet } from "./field.tsx";

export interface KeyFormOptions {
  mode: "create" | "edit";
  /** The signed-in key and user: what they may give. */
  caller: Caller;
  /** Client types to choose from (the owner's). */
  clientTypes: readonly string[];
  /** Scopes offered as checkboxes: those the calling key holds (and, editing, the key's own). */
  scopes: readonly string[];
  /** Admins may type client types and scopes beyond the lists. */
  admin: boolean;
  /** The key's expiry now (editing). */
  currentExpiresAt?: string | null | undefined;
}

/** The fields shared by "Create a key" and "Edit key", each with the server's refusal beside it. */
export function KeyFormFields(props: { values: KeyFormValues; onChange: (update: (v: KeyFormValues) => KeyFormValues) => void; errors: readonly ApiError[]; options: KeyFormOptions }) {
  const { values, errors, options } = props;
  const set = (change: Partial<KeyFormValues>) => props.onChange((v) => ({ ...v, ...change }));
  const now = Date.now();
  // Without admin power the server's bounds apply (Caller.grantable): no key outlives the calling
  // key (or the calling secret's grace period) nor gets a higher rate limit.
  const grantable = options.caller.grantable;
  const callerExpiresAt = grantable.latestExpiresAt;
  const capped = !options.admin && callerExpiresAt !== null;
  const maxRate = options.admin ? null : grantable.maxRateLimit;
  const defaultAllowed = options.admin || grantable.defaultRateLimitGrantable;
  const cap = capped ? Date.parse(callerExpiresAt!) : Infinity;
  const clientTypes = options.clientTypes.includes(values.clientType) || values.clientType === "" ? options.clientTypes : [...options.clientTypes, values.clientType];
  return (
    <>
      <Field id="key-name" label="Name" error={fieldError(errors, "name")} hint="Say who or what holds the key, e.g. “checkout service”.">
        {(a11y) => <input {...a11y} type="text" required maxLength={100} value={values.name} onInput={(e) => set({ name: e.currentTarget.value })} />}
      </Field>
      <Field id="key-description" label="Description (optional)" error={fieldError(errors, "description")}>
        {(a11y) => <textarea {...a11y} rows={2} maxLength={1000} value={values.description} onInput={(e) => set({ description: e.currentTarget.value })} />}
      </Field>
      <Field
        id="key-client-type"
        label="Client type"
        error={fieldError(errors, "clientType")}
        hint={options.admin ? "Any name of letters, digits and . _ : -; suggestions are the owner's client types." : clientTypes.length === 0 ? "You have no client types yet: ask an admin to give you one." : undefined}
      >
        {(a11y) =>
          options.admin ? (
            <>
              <input {...a11y} type="text" list="client-type-choices" required value={values.clientType} onInput={(e) => set({ clientType: e.currentTarget.value })} />
              <datalist id="client-type-choices">
                {options.clientTypes.map((t) => (
                  <option key={t} value={t} />
                ))}
              </datalist>
            </>
          ) : (
            <select {...a11y} required value={values.clientType} onChange={(e) => set({ clientType: e.currentTarget.value })}>
              {clientTypes.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          )
        }
      </Field>
      <FieldSet id="key-scopes" legend="Scopes" error={fieldError(errors, "scopes")} hint={options.admin ? undefined : "Only scopes your own key holds can be given."}>
        {options.scopes.length === 0 ? <p class="muted">Your key holds no scopes to give.</p> : null}
        <div class="checks">
          {options.scopes.map((scope) => (
            <div class="check" key={scope}>
              <input
                id={`scope-${scope}`}
                type="checkbox"
                checked={values.scopes.includes(scope)}
                onChange={(e) => set({ scopes: e.currentTarget.checked ? [...values.scopes, scope] : values.scopes.filter((s) => s !== scope) })}
              />
              <label for={`scope-${scope}`}>{scope}</label>
            </div>
          ))}
        </div>
        {options.admin ? (
          <div class="field">
            <label for="key-other-scopes">Other scopes (separated by commas or blanks)</label>
            <input id="key-other-scopes" type="text" value={values.otherScopes} onInput={(e) => set({ otherScopes: e.currentTarget.value })} />
          </div>
        ) : null}
      </FieldSet>
      <FieldSet
        id="key-expiry"
        legend="Expires"
        error={fieldError(errors, "expiresAt")}
        hint={capped ? `Your own key stops working ${dateTime(callerExpiresAt!)}; a key you give cannot outlive it.` : undefined}
      >
        <div class="checks">
          {options.mode === "edit" ? (
            <Choice id="expiry-keep" checked={values.expiry === "keep"} onChange={() => set({ expiry: "keep" })}>
              Keep as it is ({options.currentExpiresAt ? dateTime(options.currentExpiresAt) : "never"})
            </Choice>
          ) : null}
          {EXPIRY_CHOICES.map((c) => {
            const tooLate = c.id === "never" ? capped : c.days !== undefined && now + c.days * 86_400_000 > cap;
            return (
              <Choice key={c.id} id={`expiry-${c.id}`} checked={values.expiry === c.id} disabled={tooLate} onChange={() => set({ expiry: c.id })}>
                {c.label}
              </Choice>
            );
          })}
        </div>
        {values.expiry === "date" ? (
          <div class="field">
            <label for="key-expiry-date">Expiry date (the key stops at the end of that day)</label>
            <input
              id="key-expiry-date"
              type="date"
              required
              min={dateInputValue(now + 86_400_000)}
              max={capped ? dateInputValue(cap) : undefined}
              value={values.expiryDate}
              onInput={(e) => set({ expiryDate: e.currentTarget.value })}
            />
          </div>
        ) : null}
        {values.expiry === "never" ? (
          <p class="warning" role="note">
            Warning: a key that never expires works until someone revokes it. Prefer an expiry and rotate the key before it.
          </p>
        ) : null}
      </FieldSet>
      <FieldSet
        id="key-rate-limit"
        legend="Rate limit"
        error={fieldError(errors, "rateLimit")}
        hint={
          maxRate
            ? `At most ${maxRate.limit} requests per ${maxRate.windowSeconds} s or longer (your own key's limit)${defaultAllowed ? "." : "; the server default is more, so this key needs its own."}`
            : undefined
        }
      >
        <div class="check">
          <input
            id="key-own-rate-limit"
            type="checkbox"
            checked={values.ownRateLimit}
            disabled={!defaultAllowed && values.ownRateLimit}
            onChange={(e) => set({ ownRateLimit: e.currentTarget.checked })}
          />
          <label for="key-own-rate-limit">Give this key its own rate limit (otherwise the server default applies)</label>
        </div>
        {values.ownRateLimit ? (
          <div class="inline-fields">
            <div class="field">
              <label for="key-limit">Requests</label>
              <input id="key-limit" type="number" min={1} max={maxRate?.limit} step={1} required value={values.limit} onInput={(e) => set({ limit: e.currentTarget.value })} />
            </div>
            <div class="field">
              <label for="key-window">per seconds</label>
              <input id="key-window" type="number" min={maxRate?.windowSeconds ?? 1} step={1} required value={values.windowSeconds} onInput={(e) => set({ windowSeconds: e.currentTarget.value })} />
            </div>
          </div>
        ) : null}
      </FieldSet>
    </>
  );
}

function Choice(props: { id: string; checked: boolean; disabled?: boolean; onChange: () => void; children: ComponentChildren }) {
  return (
    <div class="check">
      <input id={props.id} type="radio" name={props.id.split("-")[0]} checked={props.checked} disabled={props.disabled} onChange={props.onChange} />
      <label for={props.id}>{props.children}</label>
    </div>
  );
}

/** The fields the form shows errors beside; other errors go to the list above the buttons. */
export const KEY_FORM_FIELDS = ["name", "description", "clientType", "scopes", "expiresAt", "rateLimit", "rateLimit.limit", "rateLimit.windowSeconds"];
