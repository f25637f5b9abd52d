import { Fragment, useCallback, type ReactNode } from "react";
import { gql, type UserError } from "../api";
import { useQuery, type QueryState } from "../ui";
import { SlotEditor, slotText, type Slot } from "./slots";

/** One field of an element's form, as Query.elementForm describes it (docs/elements.md). */
export interface FieldSpec {
  name: string; label: string; kind: string; cers?: string; section?: string; help?: string;
  required?: boolean; requiredWhen?: Condition; shownWhen?: Condition;
  maxLength?: number; exactLength?: number; min?: number; max?: number;
  options?: { value: string; code?: string; label: string }[];
  fields?: FieldSpec[]; itemLabel?: string; keyField?: string; maxItems?: number; minItems?: number;
  toggle?: boolean; significant?: boolean;
}
interface Condition { field: string; values: unknown[] }
export interface FormSpec { fields: FieldSpec[] }
export type Data = Record<string, unknown>;
export interface Difference { path: string[]; label: string; kind: "ADDED" | "REMOVED" | "CHANGED"; before: string | null; after: string | null; significant: boolean }

const FORM = gql`query ElementForm($element: ElementType!) { elementForm(element: $element) }`;

export function useElementForm(element: string): QueryState<{ elementForm: FormSpec }> {
  return useQuery<{ elementForm: FormSpec }>(FORM, { element });
}

const isBlank = (v: unknown) => v === null || v === undefined || v === "" || (Array.isArray(v) && v.length === 0);
const holds = (c: Condition | undefined, owner: Data) => !!c && !isBlank(owner[c.field]) && c.values.includes(owner[c.field]);
const pathId = (path: (string | number)[]) => `f-${path.join("-")}`;
// "Tank 1" reads "tank 1" inside a sentence; an acronym ("UST facility") stays as it is.
const lower1 = (text: string) => (/^[A-Z][a-z ]/.test(text) ? text.charAt(0).toLowerCase() + text.slice(1) : text);
const key = (path: (string | number)[]) => path.join(".");

/** A finding's message next to its field: without the "Tank 1 (T-1) › Monitoring plan: " that
 * says where it is, which the form already shows. */
function inline(message: string): string {
  const bare = message.replace(/^[^.:]*?: /, "");
  return bare.charAt(0).toUpperCase() + bare.slice(1);
}

/** Server findings addressed to exactly this path (document slots: anything inside it). */
function errorsFor(errors: UserError[], path: string[], prefix = false): string[] {
  return errors.filter((e) => {
    const f = e.field ?? [];
    if (prefix ? f.length < path.length : f.length !== path.length) return false;
    return path.every((p, i) => f[i] === p);
  }).map((e) => inline(e.message));
}

function recordName(spec: FieldSpec, item: Data, index: number): string {
  const shown = spec.keyField ? item[spec.keyField] : null;
  return `${spec.itemLabel ?? spec.label} ${index + 1}${typeof shown === "string" && shown ? ` (${shown})` : ""}`;
}

/** Consecutive fields that share a section heading become one fieldset, as on the paper form. */
function bySection(fields: FieldSpec[]): { section?: string; fields: FieldSpec[] }[] {
  const runs: { section?: string; fields: FieldSpec[] }[] = [];
  for (const field of fields) {
    const block = ["group", "list", "document"].includes(field.kind);
    const last = runs[runs.length - 1];
    if (!block && last && last.section === field.section && !["group", "list", "document"].includes(last.fields[0].kind)) last.fields.push(field);
    else runs.push({ section: block ? undefined : field.section, fields: [field] });
  }
  return runs;
}

interface Props {
  fields: FieldSpec[]; value: Data; path: string[]; context: string[]; errors: UserError[];
  readOnly: boolean; facilityId: string; onChange: (next: Data) => void;
}

/** What a screen reader says for a field: its label, "(required)", and where it sits ("tank 1
 * (T-1)"), since a form may hold many fields of one name. */
const spoken = (label: string, required: boolean, context: string[]) =>
  `${label}${required ? " (required)" : ""}${context.length ? `, ${context.join(", ")}` : ""}`;

function Label({ spec, id, required }: { spec: FieldSpec; id: string; required: boolean }) {
  return <label htmlFor={id}>{spec.label}{required ? <span className="req" aria-hidden="true"> *</span> : null}</label>;
}

function Scalar({ spec, owner, path, context, errors, readOnly, onSet }: {
  spec: FieldSpec; owner: Data; path: string[]; context: string[]; errors: UserError[]; readOnly: boolean;
  onSet: (value: unknown) => void;
}) {
  const id = pathId(path);
  const value = owner[spec.name];
  const required = !!spec.required || holds(spec.requiredWhen, owner);
  const problems = errorsFor(errors, path);
  const described = [problems.length ? `${id}-e` : "", spec.help ? `${id}-h` : ""].filter(Boolean).join(" ") || undefined;
  const common = {
    id, "aria-label": spoken(spec.label, spec.kind !== "check" && required, context),
    "aria-invalid": problems.length ? true : undefined, "aria-describedby": described, disabled: readOnly,
  };
  let input: ReactNode;
  if (spec.kind === "check") {
    return (
      <div className={`field check${problems.length ? " invalid" : ""}`}>
        <input type="checkbox" {...common} checked={value === true} onChange={(e) => onSet(e.target.checked ? true : null)} />
        <Label spec={spec} id={id} required={false} />
        {problems.length ? <p className="field-error" id={`${id}-e`}>{problems.join(" ")}</p> : null}
      </div>
    );
  }
  if (spec.kind === "yesNo") {
    input = (
      <select {...common} value={value === true ? "Y" : value === false ? "N" : ""}
        onChange={(e) => onSet(e.target.value === "Y" ? true : e.target.value === "N" ? false : null)}>
        <option value="">—</option><option value="Y">Yes</option><option value="N">No</option>
      </select>
    );
  } else if (spec.kind === "code") {
    input = (
      <select {...common} value={typeof value === "string" ? value : ""} onChange={(e) => onSet(e.target.value || null)}>
        <option value="">Choose…</option>
        {spec.options?.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
      </select>
    );
  } else if (spec.kind === "integer" || spec.kind === "decimal") {
    input = (
      <input type="number" inputMode={spec.kind === "integer" ? "numeric" : "decimal"} step={spec.kind === "integer" ? 1 : "any"}
        min={spec.min} max={spec.max} {...common} value={typeof value === "number" ? String(value) : ""}
        onChange={(e) => onSet(e.target.value === "" ? null : Number(e.target.value))} />
    );
  } else if (spec.kind === "date") {
    input = <input type="date" {...common} value={typeof value === "string" ? value : ""} onChange={(e) => onSet(e.target.value || null)} />;
  } else if (spec.kind === "textarea") {
    input = <textarea rows={3} maxLength={spec.maxLength} {...common} value={typeof value === "string" ? value : ""} onChange={(e) => onSet(e.target.value || null)} />;
  } else if (spec.kind === "values") {
    input = <input {...common} readOnly value={Array.isArray(value) ? value.join(", ") : ""} />;
  } else {
    input = <input maxLength={spec.maxLength ?? spec.exactLength} {...common} value={typeof value === "string" ? value : ""}
      onChange={(e) => onSet(e.target.value || null)} />;
  }
  return (
    <div className={`field${spec.kind === "textarea" ? " wide" : ""}`}>
      <Label spec={spec} id={id} required={required} />
      {input}
      {spec.help ? <p className="hint" id={`${id}-h`}>{spec.help}</p> : null}
      {problems.length ? <p className="field-error" id={`${id}-e`}>{problems.join(" ")}</p> : null}
    </div>
  );
}

function Records({ spec, owner, path, context, errors, readOnly, facilityId, onSet }: {
  spec: FieldSpec; owner: Data; path: string[]; context: string[]; errors: UserError[]; readOnly: boolean; facilityId: string;
  onSet: (value: unknown) => void;
}) {
  const items = (Array.isArray(owner[spec.name]) ? owner[spec.name] : []) as Data[];
  const what = (spec.itemLabel ?? "record").toLowerCase();
  const problems = errorsFor(errors, path);
  const full = spec.maxItems !== undefined && items.length >= spec.maxItems;
  return (
    <section className="records" aria-labelledby={`${pathId(path)}-h`}>
      <h3 id={`${pathId(path)}-h`}>{spec.label} <span className="muted">({items.length})</span>
        {spec.minItems ? <><span className="req" aria-hidden="true"> *</span><span className="sr-only"> (at least {spec.minItems} required)</span></> : null}</h3>
      {problems.length ? <p className="field-error" role="alert">{problems.join(" ")}</p> : null}
      {items.map((item, i) => {
        const name = recordName(spec, item, i);
        const at = [...path, String(i)];
        return (
          <fieldset className="record" key={typeof item.id === "string" ? item.id : `new-${i}`}>
            <legend>{name}</legend>
            {readOnly ? null : (
              <button type="button" className="link danger remove" onClick={() => onSet(items.filter((_, j) => j !== i))}>
                Remove {lower1(name)}
              </button>
            )}
            <Fields fields={spec.fields ?? []} value={item} path={at} context={[lower1(name), ...context]} errors={errors}
              readOnly={readOnly} facilityId={facilityId} onChange={(next) => onSet(items.map((x, j) => (j === i ? next : x)))} />
          </fieldset>
        );
      })}
      {readOnly ? null : (
        <button type="button" className="secondary" disabled={full} onClick={() => onSet([...items, {}])}>
          Add {what}{full ? ` (at most ${spec.maxItems})` : ""}
        </button>
      )}
    </section>
  );
}

/** The fields of one object (the element, a group or a record), in form order. */
export function Fields({ fields, value, path, context, errors, readOnly, facilityId, onChange }: Props) {
  const set = useCallback((name: string, next: unknown) => {
    const copy = { ...value };
    if (isBlank(next)) delete copy[name]; else copy[name] = next;
    onChange(copy);
  }, [value, onChange]);
  const visible = fields.filter((f) => !f.shownWhen || holds(f.shownWhen, value) || !isBlank(value[f.name]));
  return (
    <>
      {bySection(visible).map((run, r) => {
        if (run.fields[0].kind === "group") {
          const spec = run.fields[0];
          const at = [...path, spec.name];
          const present = value[spec.name] !== undefined && value[spec.name] !== null;
          const inner = (
            <Fields fields={spec.fields ?? []} value={(value[spec.name] ?? {}) as Data} path={at}
              context={[lower1(spec.label), ...context]} errors={errors} readOnly={readOnly} facilityId={facilityId}
              onChange={(next) => set(spec.name, spec.toggle ? next : (Object.keys(next).length ? next : null))} />
          );
          if (spec.toggle) {
            const id = `${pathId(at)}-used`;
            return (
              <div className={`toggle${present ? " on" : ""}`} key={spec.name}>
                <div className="field check">
                  <input type="checkbox" id={id} checked={present} disabled={readOnly} aria-expanded={present}
                    aria-label={spoken(spec.label, false, context)} onChange={(e) => set(spec.name, e.target.checked ? {} : null)} />
                  <label htmlFor={id}>{spec.label}</label>
                </div>
                {present ? <fieldset className="group"><legend className="sr-only">{spec.label}</legend>{inner}</fieldset> : null}
                {errorsFor(errors, at).map((m) => <p className="field-error" key={m}>{m}</p>)}
              </div>
            );
          }
          return (
            <fieldset className="group" key={spec.name}>
              <legend>{spec.label}{spec.required ? <span className="req" aria-hidden="true"> *</span> : null}</legend>
              {errorsFor(errors, at).map((m) => <p className="field-error" key={m}>{m}</p>)}
              {inner}
            </fieldset>
          );
        }
        if (run.fields[0].kind === "list") {
          const spec = run.fields[0];
          return <Records key={spec.name} spec={spec} owner={value} path={[...path, spec.name]} context={context} errors={errors}
            readOnly={readOnly} facilityId={facilityId} onSet={(next) => set(spec.name, next)} />;
        }
        if (run.fields[0].kind === "document") {
          const spec = run.fields[0];
          const at = [...path, spec.name];
          const required = !!spec.required || holds(spec.requiredWhen, value);
          return <SlotEditor key={spec.name} id={pathId(at)} label={`${spec.label}${required ? " (required)" : ""}`}
            slot={value[spec.name] as Slot | null} facilityId={facilityId} readOnly={readOnly}
            errors={errorsFor(errors, at, true)} onChange={(slot) => set(spec.name, slot)} />;
        }
        const body = (
          <div className="form-grid">
            {run.fields.map((spec) => <Scalar key={spec.name} spec={spec} owner={value} path={[...path, spec.name]} context={context}
              errors={errors} readOnly={readOnly} onSet={(next) => set(spec.name, next)} />)}
          </div>
        );
        return run.section
          ? <fieldset className="section" key={`s-${r}`}><legend>{run.section}</legend>{body}</fieldset>
          : <Fragment key={`s-${r}`}>{body}</Fragment>;
      })}
    </>
  );
}

// ------------------------------------------------------------------ read-only view

function shown(spec: FieldSpec, value: unknown): string {
  if (spec.kind === "check" || spec.kind === "yesNo") return value === true ? "Yes" : value === false ? "No" : "—";
  if (spec.kind === "code") return spec.options?.find((o) => o.value === value)?.label ?? String(value);
  if (typeof value === "number") return value.toLocaleString("en-US");
  if (Array.isArray(value)) return value.join(", ");
  return String(value);
}

interface ViewProps { fields: FieldSpec[]; value: Data; path: string[]; changes: Map<string, Difference>; removed: Difference[] }

/** The element as a reader wants it: answered fields only, grouped as on the form, with what
 * changed since the previous submission marked. Also what prints. */
export function ViewFields({ fields, value, path, changes, removed }: ViewProps) {
  const answered = fields.filter((f) => {
    const v = value[f.name];
    if (f.kind === "group") return v !== undefined && v !== null && (f.toggle || Object.keys(v as Data).length > 0);
    if (f.kind === "document") return !!(v && (v as Slot).option) || changes.has(key([...path, f.name]));
    return !isBlank(v) || changes.has(key([...path, f.name])) || removed.some((d) => key(d.path.slice(0, -1)) === key([...path, f.name]));
  });
  return (
    <>
      {bySection(answered).map((run, r) => {
        const spec = run.fields[0];
        const at = [...path, spec.name];
        if (spec.kind === "group") {
          const change = changes.get(key(at));
          return (
            <section className={`view-group${change ? " changed" : ""}`} key={spec.name}>
              <h3>{spec.label}{change?.kind === "ADDED" ? <mark className="new"> New</mark> : null}</h3>
              <ViewFields fields={spec.fields ?? []} value={value[spec.name] as Data} path={at} changes={changes} removed={removed} />
            </section>
          );
        }
        if (spec.kind === "list") {
          const items = (value[spec.name] ?? []) as Data[];
          const gone = removed.filter((d) => key(d.path.slice(0, -1)) === key(at));
          return (
            <section className="view-list" key={spec.name}>
              <h3>{spec.label} ({items.length})</h3>
              {items.map((item, i) => {
                const added = changes.get(key([...at, String(i)]))?.kind === "ADDED";
                return (
                  <section className={`view-record${added ? " changed" : ""}`} key={typeof item.id === "string" ? item.id : i}>
                    <h4>{recordName(spec, item, i)}{added ? <mark className="new"> New since the previous submission</mark> : null}</h4>
                    <ViewFields fields={spec.fields ?? []} value={item} path={[...at, String(i)]} changes={changes} removed={removed} />
                  </section>
                );
              })}
              {gone.length ? (
                <div className="removed">
                  <h4>Removed since the previous submission</h4>
                  <ul>{gone.map((d) => <li key={key(d.path)}><del>{d.label}</del>{d.before ? `: ${d.before}` : ""}</li>)}</ul>
                </div>
              ) : null}
            </section>
          );
        }
        const rows = run.fields.map((f) => {
          const here = key([...path, f.name]);
          const change = changes.get(here);
          const v = value[f.name];
          const text = f.kind === "document" ? slotText(v as Slot | null) : isBlank(v) ? "—" : shown(f, v);
          return (
            <div className={`kv${change ? " changed" : ""}`} key={f.name}>
              <dt>{f.label}</dt>
              <dd>{f.kind === "document" && (v as Slot | null)?.documentIds?.length
                ? <>{text} {(v as Slot).documentIds!.map((d, i) => <a key={d} href={`/documents/${d}`}>document {i + 1}</a>)}</> : text}
                {change ? <span className="was"> (was {change.before ?? "not given"})</span> : null}</dd>
            </div>
          );
        });
        return (
          <Fragment key={`r-${r}`}>
            {run.section ? <h4 className="view-section">{run.section}</h4> : null}
            <dl className="view-fields">{rows}</dl>
          </Fragment>
        );
      })}
    </>
  );
}

export function ElementView({ spec, data, differences, comparedWith }: {
  spec: FormSpec; data: Data; differences: Difference[] | null; comparedWith: string | null;
}) {
  const changes = new Map((differences ?? []).filter((d) => d.kind !== "REMOVED").map((d) => [key(d.path), d]));
  const removed = (differences ?? []).filter((d) => d.kind === "REMOVED");
  return (
    <div className="element-view">
      {differences && comparedWith ? (
        <details className="card differences" open={differences.length > 0 && differences.length <= 12}>
          <summary>{differences.length ? `${differences.length} difference${differences.length > 1 ? "s" : ""} from ${comparedWith}` : `No differences from ${comparedWith}`}
            {differences.some((d) => d.significant) ? <> · <strong>{differences.filter((d) => d.significant).length} significant</strong></> : null}</summary>
          {differences.length ? (
            <ul>{differences.map((d) => (
              <li key={key(d.path) + d.kind} className={d.significant ? "significant" : undefined}>
                <strong>{d.label}</strong>: {d.kind === "ADDED" ? "added" : d.kind === "REMOVED" ? "removed" : `${d.before ?? "not given"} → ${d.after ?? "not given"}`}
              </li>
            ))}</ul>
          ) : null}
        </details>
      ) : null}
      <ViewFields fields={spec.fields} value={data} path={[]} changes={changes} removed={removed} />
    </div>
  );
}
