import { useState, type FormEvent } from "react";
import { gql, type UserError } from "../api";
import { ErrorNotice, Loaded, Page, Success, UserErrors, useMutation, useQuery } from "../ui";

// STATE accounts keep each agency's jurisdiction; the facilities whose regulator changes follow.
const AGENCIES = gql`query AllAgencies { regulatorAgencies { id name kind phone places { county city } } }`;
const SET = gql`
  mutation SetAgencyJurisdiction($input: SetAgencyJurisdictionInput!) {
    setAgencyJurisdiction(input: $input) {
      agency { id counties cities } reassignedFacilityCount userErrors { field message code severity }
    }
  }`;

interface Place { county: string; city: string | null }
interface Agency { id: string; name: string; kind: string; phone: string | null; places: Place[] }
type Result = { setAgencyJurisdiction: { agency: { id: string } | null; reassignedFacilityCount: number; userErrors: UserError[] } };

const lines = (text: string) => text.split("\n").map((l) => l.trim()).filter(Boolean);

function JurisdictionForm({ agency, onDone }: { agency: Agency; onDone: (m: string) => void }) {
  const [counties, setCounties] = useState(agency.places.filter((p) => !p.city).map((p) => p.county).join("\n"));
  const [cities, setCities] = useState(agency.places.filter((p) => p.city).map((p) => `${p.county}: ${p.city}`).join("\n"));
  const [errors, setErrors] = useState<UserError[] | null>(null);
  const run = useMutation<Result>(SET);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const places = [
      ...lines(counties).map((county) => ({ county })),
      ...lines(cities).map((line) => {
        const [county, city] = line.split(":").map((part) => part.trim());
        return { county, city: city ?? "" };
      }),
    ];
    const data = await run.run({ input: { agencyId: agency.id, places } });
    if (!data) return;
    setErrors(data.setAgencyJurisdiction.userErrors);
    if (data.setAgencyJurisdiction.agency) {
      const moved = data.setAgencyJurisdiction.reassignedFacilityCount;
      onDone(`${agency.name}'s jurisdiction is saved; ${moved} facilit${moved === 1 ? "y has" : "ies have"} a new regulator.`);
    }
  };
  const id = `j-${agency.id}`;
  return (
    <form className="form" onSubmit={submit} aria-labelledby={`${id}-h`}>
      <h3 id={`${id}-h`}>Change the jurisdiction of {agency.name}</h3>
      {run.error ? <ErrorNotice error={run.error} /> : null}
      <UserErrors errors={errors} />
      <div className="field">
        <label htmlFor={`${id}-counties`}>Whole counties, one per line</label>
        <textarea id={`${id}-counties`} rows={3} value={counties} onChange={(e) => setCounties(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-cities`}>Cities, one per line as County: City</label>
        <textarea id={`${id}-cities`} rows={2} value={cities} placeholder="Alameda: Berkeley" onChange={(e) => setCities(e.target.value)} />
      </div>
      <p className="muted">A place has one agency: take it out of another agency's jurisdiction first. A city's own agency wins over its county's.</p>
      <button type="submit" disabled={run.busy}>Save jurisdiction</button>
    </form>
  );
}

export function Jurisdictions() {
  const state = useQuery<{ regulatorAgencies: Agency[] }>(AGENCIES);
  const [notice, setNotice] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const done = (message: string) => { setNotice(message); setEditing(null); state.reload(); };
  return (
    <Page title="Agency jurisdictions">
      {notice ? <Success>{notice}</Success> : null}
      <Loaded state={state}>{(data) => (
        <ul className="cards">{data.regulatorAgencies.map((agency) => (
          <li key={agency.id} className="card">
            <h2>{agency.name}</h2>
            <p>{agency.kind} · {agency.places.map((p) => (p.city ? `${p.city} (${p.county} County)` : `${p.county} County`)).join(", ") || "no jurisdiction"}
              {agency.phone ? ` · ${agency.phone}` : ""}</p>
            {editing === agency.id
              ? <JurisdictionForm agency={agency} onDone={done} />
              : <button type="button" className="secondary" onClick={() => setEditing(agency.id)}>
                  Change jurisdiction<span className="sr-only"> of {agency.name}</span></button>}
          </li>
        ))}</ul>
      )}</Loaded>
    </Page>
  );
}
