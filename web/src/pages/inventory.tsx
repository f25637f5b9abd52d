import { memo, useCallback, useMemo, useRef, useState } from "react";
import type { UserError } from "../api";

export type Material = Record<string, unknown>;

const STATES = ["SOLID", "LIQUID", "GAS"];
const TYPES = ["PURE", "MIXTURE", "WASTE"];
const UNITS = ["GALLONS", "CUBIC_FEET", "POUNDS", "TONS"];

interface Column { key: string; label: string; kind: "text" | "number" | "yesno" | "enum"; options?: string[]; width?: string }

const COLUMNS: Column[] = [
  { key: "commonName", label: "Common name", kind: "text", width: "14rem" },
  { key: "chemicalName", label: "Chemical name", kind: "text", width: "12rem" },
  { key: "casNumber", label: "CAS number", kind: "text", width: "8rem" },
  { key: "ehs", label: "EHS", kind: "yesno" },
  { key: "hmType", label: "Type", kind: "enum", options: TYPES },
  { key: "physicalState", label: "State", kind: "enum", options: STATES },
  { key: "maximumDailyAmount", label: "Max daily", kind: "number" },
  { key: "averageDailyAmount", label: "Avg daily", kind: "number" },
  { key: "units", label: "Units", kind: "enum", options: UNITS },
  { key: "largestContainer", label: "Largest container", kind: "number" },
  { key: "daysOnSite", label: "Days on site", kind: "number" },
  { key: "location", label: "Location", kind: "text", width: "10rem" },
];

/** The CAS Registry check digit: weighted sum of the other digits, mod 10. */
export function casProblem(value: string): string | null {
  const match = /^(\d{2,7})-(\d{2})-(\d)$/.exec(value.trim());
  if (!match) return "Write a CAS number as NNNNNNN-NN-N.";
  const digits = (match[1] + match[2]).split("").reverse();
  const sum = digits.reduce((total, d, i) => total + Number(d) * (i + 1), 0);
  return sum % 10 === Number(match[3]) ? null : "This CAS number's check digit is wrong.";
}

/** The checks a user can see while typing; the server's findings are shown alongside. */
export function rowProblems(m: Material): Record<string, string> {
  const problems: Record<string, string> = {};
  if (!m.commonName) problems.commonName = "Common name is required.";
  if (typeof m.casNumber === "string" && m.casNumber.trim()) {
    const cas = casProblem(m.casNumber);
    if (cas) problems.casNumber = cas;
  }
  if (m.ehs === null || m.ehs === undefined) problems.ehs = "Say whether it is an EHS.";
  if (!m.physicalState) problems.physicalState = "Physical state is required.";
  if (m.maximumDailyAmount === null || m.maximumDailyAmount === undefined) problems.maximumDailyAmount = "Maximum daily amount is required.";
  if (!m.units) problems.units = "Units are required.";
  const avg = m.averageDailyAmount as number | null | undefined;
  const max = m.maximumDailyAmount as number | null | undefined;
  if (typeof avg === "number" && typeof max === "number" && avg > max) problems.averageDailyAmount = "The average is above the maximum.";
  const days = m.daysOnSite as number | null | undefined;
  if (typeof days === "number" && (days < 1 || days > 365)) problems.daysOnSite = "Days on site must be between 1 and 365.";
  for (const key of ["maximumDailyAmount", "averageDailyAmount", "largestContainer"]) {
    if (typeof m[key] === "number" && (m[key] as number) < 0) problems[key] = "Amounts cannot be negative.";
  }
  return problems;
}

export function blankMaterial(): Material {
  return { commonName: "", tradeSecret: false, locationConfidential: false, containerTypes: [], fireCodeHazardClasses: [], hazardCategories: [], components: [] };
}

function cellValue(column: Column, value: unknown): string {
  if (column.kind === "yesno") return value === true ? "Y" : value === false ? "N" : "";
  return value === null || value === undefined ? "" : String(value);
}

function parse(column: Column, text: string): unknown {
  if (column.kind === "yesno") return text === "Y" ? true : text === "N" ? false : null;
  if (column.kind === "number") {
    if (text.trim() === "") return null;
    const n = Number(text);
    return Number.isFinite(n) ? (column.key === "daysOnSite" ? Math.trunc(n) : n) : text;
  }
  return text === "" ? null : text;
}

const Row = memo(function Row({ index, material, server, readOnly, onChange, onRemove }: {
  index: number; material: Material; server: Record<string, string> | undefined; readOnly: boolean;
  onChange: (index: number, key: string, value: unknown) => void; onRemove: (index: number) => void;
}) {
  const local = readOnly ? {} : rowProblems(material);
  const name = (material.commonName as string) || `row ${index + 1}`;
  return (
    <tr>
      <th scope="row">{index + 1}</th>
      {COLUMNS.map((column) => {
        const problem = local[column.key] ?? server?.[column.key];
        const id = `hm-${index}-${column.key}`;
        const label = `${column.label}, material ${index + 1}`;
        if (readOnly) return <td key={column.key}>{cellValue(column, material[column.key])}</td>;
        return (
          <td key={column.key} className={problem ? "invalid" : undefined}>
            {column.kind === "enum" || column.kind === "yesno" ? (
              <select id={id} aria-label={label} value={cellValue(column, material[column.key])}
                aria-invalid={problem ? true : undefined} aria-describedby={problem ? `${id}-e` : undefined}
                onChange={(e) => onChange(index, column.key, parse(column, e.target.value))}>
                <option value="">—</option>
                {(column.kind === "yesno" ? ["Y", "N"] : column.options ?? []).map((o) => <option key={o} value={o}>{o.replace(/_/g, " ").toLowerCase()}</option>)}
              </select>
            ) : (
              <input id={id} aria-label={label} value={cellValue(column, material[column.key])} style={column.width ? { width: column.width } : undefined}
                inputMode={column.kind === "number" ? "decimal" : undefined}
                aria-invalid={problem ? true : undefined} aria-describedby={problem ? `${id}-e` : undefined}
                onChange={(e) => onChange(index, column.key, parse(column, e.target.value))} />
            )}
            {problem ? <span className="cell-error" id={`${id}-e`}>{problem}</span> : null}
          </td>
        );
      })}
      {readOnly ? null : <td><button type="button" className="link" onClick={() => onRemove(index)} aria-label={`Remove ${name}`}>Remove</button></td>}
    </tr>
  );
});

/** The inventory as one editable table; rows are memoized so typing stays fast with hundreds of materials. */
export function InventoryTable({ materials, onChange, readOnly, serverErrors }: {
  materials: Material[]; onChange: (next: Material[]) => void; readOnly: boolean; serverErrors: UserError[];
}) {
  const [filter, setFilter] = useState("");
  const byRow = useMemo(() => {
    const rows = new Map<number, Record<string, string>>();
    for (const e of serverErrors) {
      const path = e.field ?? [];
      const at = path.indexOf("materials");
      if (at < 0 || path.length < at + 3) continue;
      const index = Number(path[at + 1]);
      rows.set(index, { ...rows.get(index), [path[at + 2]]: e.message });
    }
    return rows;
  }, [serverErrors]);
  // A ref keeps the callbacks stable, so a keystroke re-renders one row, not all of them.
  const latest = useRef(materials);
  latest.current = materials;
  const change = useCallback((index: number, key: string, value: unknown) => {
    const next = latest.current.slice();
    next[index] = { ...next[index], [key]: value };
    onChange(next);
  }, [onChange]);
  const remove = useCallback((index: number) => {
    onChange(latest.current.filter((_, i) => i !== index));
  }, [onChange]);
  const needle = filter.trim().toLowerCase();
  const invalid = readOnly ? 0 : materials.filter((m, i) => Object.keys(rowProblems(m)).length || byRow.has(i)).length;
  return (
    <div>
      <div className="row">
        <div className="field">
          <label htmlFor="hm-filter">Find a material</label>
          <input id="hm-filter" type="search" value={filter} onChange={(e) => setFilter(e.target.value)} />
        </div>
        <p className="muted" aria-live="polite">{materials.length} material{materials.length === 1 ? "" : "s"}{invalid ? ` · ${invalid} with problems` : ""}</p>
      </div>
      <div className="table-wrap inventory">
        <table>
          <caption className="sr-only">Hazardous materials</caption>
          <thead><tr><th scope="col">#</th>{COLUMNS.map((c) => <th key={c.key} scope="col">{c.label}</th>)}{readOnly ? null : <th scope="col"><span className="sr-only">Actions</span></th>}</tr></thead>
          <tbody>
            {materials.map((m, i) => (!needle || String(m.commonName ?? "").toLowerCase().includes(needle) || String(m.casNumber ?? "").includes(needle)) ? (
              <Row key={i} index={i} material={m} server={byRow.get(i)} readOnly={readOnly} onChange={change} onRemove={remove} />
            ) : null)}
          </tbody>
        </table>
      </div>
      {!materials.length ? <p className="empty">No materials yet.{readOnly ? "" : " Add one, or import a CSV file."}</p> : null}
      {readOnly ? null : <button type="button" className="secondary" onClick={() => onChange([...materials, blankMaterial()])}>Add material</button>}
    </div>
  );
}
