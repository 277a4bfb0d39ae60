// The one door to the backend: every generated command, with its result unwrapped.
//
// The generated bindings return `{status:"ok",data} | {status:"error",error}`; screens
// would rather `await` a value and `catch` an error, so each command is wrapped once
// here and failures become an `AppError` carrying the backend's stable code.

import { commands } from "../bindings";

/** The stable error codes of DESIGN.md, `unavailable` for a remote service that did not
 * answer (the update endpoint), and `internal` for anything unexpected. */
export type ErrorCode =
  | "invalid"
  | "not_found"
  | "denied"
  | "conflict"
  | "auth"
  | "integrity"
  | "unavailable"
  | "internal";

const KNOWN_CODES: readonly string[] = [
  "invalid",
  "not_found",
  "denied",
  "conflict",
  "auth",
  "integrity",
  "unavailable",
  "internal",
];

export class AppError extends Error {
  readonly code: ErrorCode;

  constructor(code: string, message: string) {
    super(message);
    this.name = "AppError";
    this.code = (KNOWN_CODES.includes(code) ? code : "internal") as ErrorCode;
  }

  /** The backend reports a locked vault as `auth` with this exact message. */
  get isLocked(): boolean {
    return this.code === "auth" && /vault is locked/i.test(this.message);
  }
}

/** Turns anything thrown (an IPC error object, an Error, a string) into an AppError. */
export function toAppError(e: unknown): AppError {
  if (e instanceof AppError) return e;
  if (e && typeof e === "object" && "code" in e && "message" in e) {
    const { code, message } = e as { code: unknown; message: unknown };
    return new AppError(String(code), String(message));
  }
  if (e instanceof Error) return new AppError("internal", e.message);
  return new AppError("internal", typeof e === "string" ? e : "Something went wrong");
}

type IpcResult<T> = { status: "ok"; data: T } | { status: "error"; error: unknown };

function isIpcResult(r: unknown): r is IpcResult<unknown> {
  if (!r || typeof r !== "object" || !("status" in r)) return false;
  const s = (r as { status: unknown }).status;
  return (s === "ok" && "data" in r) || (s === "error" && "error" in r);
}

/** Resolves to the command's data, or throws an AppError. */
export async function unwrap<T>(call: Promise<IpcResult<T> | T>): Promise<T> {
  let result: IpcResult<T> | T;
  try {
    result = await call;
  } catch (e) {
    throw report(toAppError(e));
  }
  if (!isIpcResult(result)) return result as T;
  if (result.status === "ok") return result.data as T;
  throw report(toAppError(result.error));
}

type Commands = typeof commands;
type DataOf<R> = R extends { status: "ok"; data: infer D } ? D : R extends { status: "error" } ? never : R;
export type Api = {
  [K in keyof Commands]: (
    ...args: Parameters<Commands[K]>
  ) => Promise<DataOf<Awaited<ReturnType<Commands[K]>>>>;
};

function wrapAll(source: Commands): Api {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(source) as (keyof Commands)[]) {
    out[key] = (...args: unknown[]) =>
      unwrap((source[key] as (...a: unknown[]) => Promise<unknown>)(...args));
  }
  return out as Api;
}

/** Every backend command, returning its data and throwing AppError on failure. */
export const api: Api = wrapAll(commands);

// A command refused because the vault locked itself (auto-lock in the backend) tells the
// app to go back to the unlock screen at once rather than at the next poll.
const lockedListeners = new Set<() => void>();

export function onVaultLocked(listener: () => void): () => void {
  lockedListeners.add(listener);
  return () => lockedListeners.delete(listener);
}

function report(e: AppError): AppError {
  if (e.isLocked) lockedListeners.forEach((l) => l());
  return e;
}

/** A sentence for people: the backend's message with a capital and a full stop. */
export function errorMessage(e: unknown): string {
  const err = toAppError(e);
  const text = err.message.trim() || "Something went wrong";
  const sentence = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
}
