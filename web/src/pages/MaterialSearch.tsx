import { useState, type FormEvent } from "react";
import { ApiError, explain, gql } from "../api";
import { accessToken } from "../auth";
import { Link, navigate, useLocation, withQuery } from "../router";
import { Empty, humanize, Loaded, Page, useQuery } from "../ui";

// Every filter lives in the URL (the same names /exports/search.csv takes), so a search is a
// bookmark and its exports are the same URL under /exports.
const SEARCH = gql`
  query HazardousMaterialSearch($filter: HazardousMaterialSearchFilter, $sort: HazardousMaterialSearchSort, $units: Units, $after: String) {
    hazardousMaterialSearch(filter: $filter, sort: $sort, amountUnits: $units, first: 25, after: $after) {
      totalCount totalCountIsExact amountNotConvertible
      pageInfo { hasNextPage endCursor }
      edges { node {
        facility { id name cersId county city }
        distanceMiles complianceStatus inventoryStatus matchingMaterialCount
        materials { position commonName casNumber ehs physicalState maximumDailyAmount units amountInUnits conversionProblem tradeSecret }
      } }
    }
  }`;

const FIELDS = ["casNumbers", "name", "nameMode", "ehs", "hazardCategories", "physicalStates", "amountAbove",
  "amountUnits", "counties", "complianceStatuses", "latitude", "longitude", "radiusMiles", "sort"] as const;
type Form = Record<(typeof FIELDS)[number], string>;

const HAZARDS = ["FLAMMABLE", "GAS_UNDER_PRESSURE", "EXPLOSIVE", "OXIDIZER", "CORROSIVE_TO_METAL", "ACUTE_TOXICITY",
  "CARCINOGENICITY", "SKIN_CORROSION_IRRITATION", "REPRODUCTIVE_TOXICITY", "SIMPLE_ASPHYXIANT"];
const UNITS = ["POUNDS", "GALLONS", "CUBIC_FEET", "TONS"];

interface Match { position: number; commonName: string | null; casNumber: string | null; ehs: boolean; physicalState: string | null;
  maximumDailyAmount: number | null; units: string | null; amountInUnits: number | null; conversionProblem: string | null; tradeSecret: boolean }
interface Row { facility: { id: string; name: string; cersId: number; county: string; city: string | null } | null;
  distanceMiles: number | null; complianceStatus: string | null; inventoryStatus: string | null; matchingMaterialCount: number; materials: Match[] }
interface Result { hazardousMaterialSearch: { totalCount: number; totalCountIsExact: boolean; amountNotConvertible: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: Row }[] } }

function list(value: string): string[] | null {
  const items = value.split(",").map((v) => v.trim()).filter(Boolean);
  return items.length ? items : null;
}

function number(value: string): number | null {
  return value.trim() !== "" && Number.isFinite(Number(value)) ? Number(value) : null;
}

/** The URL's filter as GraphQL variables. */
function variables(form: Form) {
  const lat = number(form.latitude), lon = number(form.longitude), radius = number(form.radiusMiles);
  const amount = number(form.amountAbove);
  const name = form.name.trim() || null;
  return {
    filter: {
      casNumbers: list(form.casNumbers),
      nameStartsWith: name && form.nameMode === "starts" ? name : null,
      nameContains: name && form.nameMode !== "starts" ? name : null,
      ehs: form.ehs === "true" ? true : form.ehs === "false" ? false : null,
      hazardCategories: list(form.hazardCategories),
      physicalStates: list(form.physicalStates),
      maximumDailyAmountAbove: amount !== null ? { amount, units: form.amountUnits || "POUNDS" } : null,
      counties: list(form.counties),
      complianceStatuses: list(form.complianceStatuses),
      near: lat !== null && lon !== null && radius !== null ? { latitude: lat, longitude: lon, radiusMiles: radius } : null,
    },
    sort: form.sort || "CERS_ID",
    units: form.amountUnits || "POUNDS",
  };
}

/** The same filter in /exports/search.* query-string form. */
function exportQuery(form: Form): string {
  const params = new URLSearchParams();
  const put = (key: string, value: string) => { if (value.trim()) params.set(key, value.trim()); };
  put("casNumbers", form.casNumbers);
  if (form.name.trim()) params.set(form.nameMode === "starts" ? "nameStartsWith" : "nameContains", form.name.trim());
  for (const key of ["ehs", "hazardCategories", "physicalStates", "amountAbove", "amountUnits", "counties",
    "complianceStatuses", "latitude", "longitude", "radiusMiles", "sort"] as const) put(key, form[key]);
  return params.toString();
}

function Field({ id, label, children }: { id: string; label: string; children: React.ReactNode }) {
  return <div className="field"><label htmlFor={id}>{label}</label>{children}</div>;
}

function Choice({ id, label, value, options, onChange }: { id: string; label: string; value: string; options: [string, string][]; onChange: (v: string) => void }) {
  return (
    <Field id={id} label={label}>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        {options.map(([v, text]) => <option key={v} value={v}>{text}</option>)}
      </select>
    </Field>
  );
}

function ExportButton({ form, kind }: { form: Form; kind: "csv" | "geojson" }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const download = async () => {
    setBusy(true);
    setError(null);
    try {
      const token = await accessToken();
      const response = await fetch(`/exports/search.${kind}?${exportQuery(form)}`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      if (!response.ok) {
        const body = (await response.json().catch(() => ({}))) as { error?: { code: string; message: string } };
        throw new ApiError(body.error?.message ?? `Export failed (HTTP ${response.status}).`, body.error?.code ?? "UNAVAILABLE");
      }
      const url = URL.createObjectURL(await response.blob());
      const link = document.createElement("a");
      link.href = url;
      link.download = `hazardous-materials.${kind}`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setError(explain(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" className="secondary" onClick={() => void download()} disabled={busy}>
        {busy ? "Exporting…" : kind === "csv" ? "Export CSV" : "Export GeoJSON"}
      </button>
      {error ? <span role="alert" className="error">{error}</span> : null}
    </>
  );
}

function amount(m: Match, units: string): string {
  const reported = m.maximumDailyAmount !== null ? `${m.maximumDailyAmount.toLocaleString()} ${humanize(m.units ?? "")}` : "—";
  if (m.units === units) return reported;
  if (m.amountInUnits !== null) return `${reported} (${Math.round(m.amountInUnits).toLocaleString()} ${humanize(units)})`;
  return `${reported} (not convertible)`;
}

export function MaterialSearch() {
  const { query } = useLocation();
  const current = Object.fromEntries(FIELDS.map((f) => [f, query.get(f) ?? ""])) as Form;
  const after = query.get("after");
  const [form, setForm] = useState<Form>(current);
  const set = (key: keyof Form) => (value: string) => setForm({ ...form, [key]: value });
  const searched = FIELDS.some((f) => current[f] !== "");
  const vars = variables(current);
  const state = useQuery<Result>(SEARCH, { ...vars, after }, !searched);
  const submit = (event: FormEvent) => { event.preventDefault(); navigate(withQuery("/materials", form)); };
  const units = vars.units;
  return (
    <Page title="Hazardous materials search">
      <form className="filters" onSubmit={submit} role="search" aria-label="Search hazardous materials">
        <Field id="m-cas" label="CAS numbers (comma-separated)">
          <input id="m-cas" value={form.casNumbers} placeholder="7664-41-7" onChange={(e) => set("casNumbers")(e.target.value)} />
        </Field>
        <Field id="m-name" label="Chemical or common name">
          <input id="m-name" type="search" value={form.name} onChange={(e) => set("name")(e.target.value)} />
        </Field>
        <Choice id="m-mode" label="Name" value={form.nameMode} onChange={set("nameMode")}
          options={[["", "contains"], ["starts", "starts with"]]} />
        <Choice id="m-ehs" label="EHS" value={form.ehs} onChange={set("ehs")}
          options={[["", "Any"], ["true", "Extremely hazardous only"], ["false", "Not EHS"]]} />
        <Choice id="m-hazard" label="Hazard category" value={form.hazardCategories} onChange={set("hazardCategories")}
          options={[["", "Any"], ...HAZARDS.map((h): [string, string] => [h, humanize(h)])]} />
        <Choice id="m-state" label="Physical state" value={form.physicalStates} onChange={set("physicalStates")}
          options={[["", "Any"], ["SOLID", "Solid"], ["LIQUID", "Liquid"], ["GAS", "Gas"]]} />
        <Field id="m-amount" label="Maximum daily amount above">
          <input id="m-amount" inputMode="decimal" value={form.amountAbove} onChange={(e) => set("amountAbove")(e.target.value)} />
        </Field>
        <Choice id="m-units" label="Units" value={form.amountUnits} onChange={set("amountUnits")}
          options={UNITS.map((u): [string, string] => [u, humanize(u)])} />
        <Field id="m-county" label="Counties (comma-separated)">
          <input id="m-county" value={form.counties} onChange={(e) => set("counties")(e.target.value)} />
        </Field>
        <Choice id="m-compliance" label="Compliance" value={form.complianceStatuses} onChange={set("complianceStatuses")}
          options={[["", "Any"], ...["CURRENT", "DUE_SOON", "OVERDUE", "UPDATE_REQUIRED"].map((s): [string, string] => [s, humanize(s)])]} />
        <Field id="m-lat" label="Latitude">
          <input id="m-lat" inputMode="decimal" value={form.latitude} placeholder="39.9368" onChange={(e) => set("latitude")(e.target.value)} />
        </Field>
        <Field id="m-lon" label="Longitude">
          <input id="m-lon" inputMode="decimal" value={form.longitude} placeholder="-120.9472" onChange={(e) => set("longitude")(e.target.value)} />
        </Field>
        <Field id="m-radius" label="Within miles">
          <input id="m-radius" inputMode="decimal" value={form.radiusMiles} onChange={(e) => set("radiusMiles")(e.target.value)} />
        </Field>
        <Choice id="m-sort" label="Sort by" value={form.sort} onChange={set("sort")}
          options={[["", "CERS ID"], ["DISTANCE", "Distance (nearest first)"], ["AMOUNT", "Amount (largest first)"]]} />
        <button type="submit">Search</button>
      </form>
      {!searched ? <Empty><p>Choose at least one filter: a chemical, a place, a county, a hazard.</p></Empty> : (
        <Loaded state={state}>{(data) => {
          const found = data.hazardousMaterialSearch;
          const rows = found.edges.map((e) => e.node);
          return (
            <>
              <div className="actions-row">
                <p className="muted" aria-live="polite">
                  {found.totalCount.toLocaleString()}{found.totalCountIsExact ? "" : "+"} facilit{found.totalCount === 1 ? "y" : "ies"} match.
                  {found.amountNotConvertible ? ` ${found.amountNotConvertible.toLocaleString()} materials could not be compared in ${humanize(units)} (no density reported).` : ""}
                </p>
                <ExportButton form={current} kind="csv" />
                <ExportButton form={current} kind="geojson" />
              </div>
              {rows.length ? (
                <div className="table-wrap"><table>
                  <thead><tr><th scope="col">Facility</th><th scope="col">County</th>
                    {vars.filter.near ? <th scope="col">Distance</th> : null}
                    <th scope="col">Compliance</th><th scope="col">Matching materials</th></tr></thead>
                  <tbody>{rows.map((r) => (
                    <tr key={r.facility?.id}>
                      <td data-label="Facility">{r.facility ? <Link to={`/facilities/${r.facility.id}`}>{r.facility.name}</Link> : "—"}
                        <div className="muted">CERS ID {r.facility?.cersId}</div></td>
                      <td data-label="County">{r.facility?.county}</td>
                      {vars.filter.near ? <td data-label="Distance">{r.distanceMiles !== null ? `${r.distanceMiles.toFixed(1)} mi` : "—"}</td> : null}
                      <td data-label="Compliance">{r.complianceStatus ? humanize(r.complianceStatus) : "—"}</td>
                      <td data-label="Matching materials"><ul className="plain">{r.materials.map((m) => (
                        <li key={m.position}>{m.commonName}{m.casNumber ? ` (${m.casNumber})` : ""}{m.ehs ? " · EHS" : ""} · {amount(m, units)}</li>
                      ))}{r.matchingMaterialCount > r.materials.length ? <li className="muted">and {r.matchingMaterialCount - r.materials.length} more</li> : null}</ul></td>
                    </tr>
                  ))}</tbody>
                </table></div>
              ) : <Empty><p>No facility matches. Try fewer filters or a wider radius.</p></Empty>}
              <div className="pager">
                {after ? <Link to={withQuery("/materials", current)}>First page</Link> : null}
                {found.pageInfo.hasNextPage && found.pageInfo.endCursor
                  ? <Link to={withQuery("/materials", { ...current, after: found.pageInfo.endCursor })}>Next page</Link> : null}
              </div>
            </>
          );
        }}</Loaded>
      )}
    </Page>
  );
}
