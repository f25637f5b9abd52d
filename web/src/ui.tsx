import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import { explain, followSubscription, request, type UserError } from "./api";

export interface QueryState<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

export function useQuery<T>(query: string, variables: object = {}, skip = false): QueryState<T> {
  const key = JSON.stringify(variables);
  const [state, setState] = useState<{ data: T | null; error: unknown; loading: boolean }>(
    { data: null, error: null, loading: !skip });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (skip) return;
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    request<T>(query, JSON.parse(key) as object).then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error: unknown) => live && setState({ data: null, error, loading: false }),
    );
    return () => { live = false; };
  }, [query, key, tick, skip]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

export type LiveStatus = "connecting" | "live" | "polling";

/** Seconds between refreshes while live updates are unavailable. */
export const POLL_SECONDS = 30;

/**
 * Calls onChange whenever the subscription delivers a change (the page reloads its query);
 * while the live connection is down, every POLL_SECONDS instead, reconnecting with backoff.
 * Answers what the page shows: live, or polling.
 */
export function useLive(subscription: string, variables: object, onChange: () => void, skip = false): LiveStatus {
  const key = JSON.stringify(variables);
  const [status, setStatus] = useState<LiveStatus>("connecting");
  const changed = useRef(onChange);
  changed.current = onChange;
  useEffect(() => {
    if (skip) return;
    const abort = new AbortController();
    let poll: number | undefined;
    const polling = (on: boolean) => {
      if (on && poll === undefined) poll = window.setInterval(() => changed.current(), POLL_SECONDS * 1000);
      if (!on && poll !== undefined) { window.clearInterval(poll); poll = undefined; }
    };
    void (async () => {
      let attempt = 0;
      let opened = false;
      while (!abort.signal.aborted) {
        let failed = false;
        try {
          await followSubscription(subscription, JSON.parse(key) as object, () => {
            setStatus("live");
            polling(false);
            // Live again after a gap: what changed meanwhile was not delivered; reload once.
            if (opened) changed.current();
            opened = true;
          }, (result) => {
            if (result.errors?.length && !result.data) failed = true;
            else { attempt = 0; changed.current(); }
          }, abort.signal);
        } catch {
          failed = true;
        }
        if (abort.signal.aborted) return;
        if (failed) {
          setStatus("polling");
          polling(true);
          attempt += 1;
        }
        // Ended (a refused subscription, an expired token, a restart): connect again, soon
        // after a clean end, with growing pauses after failures.
        const pause = failed ? Math.min(60, 2 ** attempt) : 1;
        await new Promise((resolve) => window.setTimeout(resolve, pause * 1000));
      }
    })();
    return () => { abort.abort(); polling(false); };
  }, [subscription, key, skip]);
  return status;
}

/** The page's live indicator: changes appear as they happen, or refresh on a timer. */
export function LiveBadge({ status }: { status: LiveStatus | LiveStatus[] }) {
  const all = Array.isArray(status) ? status : [status];
  const shown: LiveStatus = all.includes("polling") ? "polling" : all.every((s) => s === "live") ? "live" : "connecting";
  const text = shown === "live" ? "Live" : shown === "polling" ? `Updates every ${POLL_SECONDS} s` : "Connecting…";
  const title = shown === "live" ? "Changes appear here as they happen." : shown === "polling"
    ? "Live updates are unavailable; this page refreshes itself meanwhile." : "Connecting to live updates.";
  return <span className={`live live-${shown}`} role="status" title={title} data-live={shown}>
    <span className="live-dot" aria-hidden="true" />{text}</span>;
}

/** Runs a mutation; keeps the form's values on failure because the caller owns them. */
export function useMutation<T>(query: string) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(async (variables: object): Promise<T | null> => {
    setBusy(true);
    setError(null);
    try {
      return await request<T>(query, variables);
    } catch (e) {
      setError(explain(e));
      return null;
    } finally {
      setBusy(false);
    }
  }, [query]);
  return { run, busy, error, setError };
}

export function Page({ title, children, actions }: { title: string; children: ReactNode; actions?: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · CERS`;
    heading.current?.focus({ preventScroll: true });
  }, [title]);
  return (
    <>
      <div className="page-head">
        <h1 tabIndex={-1} ref={heading}>{title}</h1>
        {actions ? <div className="actions">{actions}</div> : null}
      </div>
      {children}
    </>
  );
}

export function Loading({ what = "Loading" }: { what?: string }) {
  return <p className="loading" role="status" aria-live="polite"><span className="spinner" aria-hidden="true" />{what}…</p>;
}

export function ErrorNotice({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  return (
    <div className="notice error" role="alert">
      <p>{typeof error === "string" ? error : explain(error)}</p>
      {onRetry ? <button type="button" onClick={onRetry}>Try again</button> : null}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

export function Success({ children }: { children: ReactNode }) {
  return <div className="notice success" role="status">{children}</div>;
}

/** Shows a query's loading and error states, or its content. */
export function Loaded<T>({ state, children }: { state: QueryState<T>; children: (data: T) => ReactNode }) {
  if (state.loading && !state.data) return <Loading />;
  if (state.error) return <ErrorNotice error={state.error} onRetry={state.reload} />;
  if (!state.data) return <Loading />;
  return <>{children(state.data)}</>;
}

export function UserErrors({ errors }: { errors: UserError[] | null | undefined }) {
  if (!errors?.length) return null;
  const blocking = errors.some((e) => e.severity === "ERROR");
  return (
    <div className={`notice ${blocking ? "error" : "warning"}`} role="alert">
      <ul>{errors.map((e, i) => (
        <li key={i}><strong>{e.severity === "ERROR" ? "Error" : "Warning"}:</strong> {e.message}
          {e.field?.length ? <span className="field-path"> ({e.field.join(" › ")})</span> : null}</li>
      ))}</ul>
    </div>
  );
}

const STATUS_TEXT: Record<string, string> = {
  CURRENT: "Current", DUE_SOON: "Due soon", OVERDUE: "Overdue", UPDATE_REQUIRED: "Update required",
  DRAFT: "Draft", SUBMITTED: "Submitted", UNDER_REVIEW: "Under review", ACCEPTED: "Accepted",
  NOT_ACCEPTED: "Not accepted", NOT_APPLICABLE: "Not applicable",
};

export function Badge({ status }: { status: string }) {
  return <span className={`badge badge-${status.toLowerCase().replace(/_/g, "-")}`}>{STATUS_TEXT[status] ?? status}</span>;
}

export const ELEMENT_NAMES: Record<string, string> = {
  FACILITY_INFORMATION: "Facility Information",
  HAZARDOUS_MATERIALS_INVENTORY: "Hazardous Materials Inventory",
  EMERGENCY_RESPONSE_TRAINING_PLANS: "Emergency Response and Training Plans",
  UST: "UST",
  TIERED_PERMITTING: "Tiered Permitting",
  RECYCLABLE_MATERIALS_REPORT: "Recyclable Materials Report",
  REMOTE_WASTE_CONSOLIDATION: "Remote Waste Consolidation Site",
  HAZARDOUS_WASTE_TANK_CLOSURE: "Hazardous Waste Tank Closure Certification",
  APSA: "APSA",
  CALARP: "CalARP",
};
export const ELEMENT_TYPES = Object.keys(ELEMENT_NAMES);
export const HMBP = ELEMENT_TYPES.slice(0, 3);

export function humanize(value: string): string {
  return value.charAt(0) + value.slice(1).toLowerCase().replace(/_/g, " ");
}

export function formatDate(value: string | null | undefined): string {
  if (!value) return "—";
  const date = value.length === 10 ? new Date(`${value}T12:00:00`) : new Date(value);
  return date.toLocaleDateString("en-US", { year: "numeric", month: "short", day: "numeric" });
}

export function formatDateTime(value: string | null | undefined): string {
  if (!value) return "—";
  return new Date(value).toLocaleString("en-US", { dateStyle: "medium", timeStyle: "short" });
}

export function fullName(person: { firstName?: string | null; lastName?: string | null } | null | undefined): string {
  return [person?.firstName, person?.lastName].filter(Boolean).join(" ") || "—";
}
