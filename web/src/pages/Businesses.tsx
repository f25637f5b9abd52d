import { useState, type FormEvent } from "react";
import { gql, type UserError } from "../api";
import { Link, useLocation, withQuery } from "../router";
import {
  Badge, Empty, ErrorNotice, formatDate, Loaded, Page, Success, UserErrors, useMutation, useQuery,
} from "../ui";

const MY_BUSINESSES = gql`
  query MyBusinesses {
    myBusinesses { totalCount edges { node { id name orgCode } } }
    me { id memberships { role organization { id } } }
  }`;

const ORGANIZATION = gql`
  query Organization($id: ID!, $after: String) {
    me { id memberships { role organization { id } } }
    organization(id: $id) {
      id name orgCode
      facilities(first: 25, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { id cersId name city county complianceStatus annualDueDate siteAddress { street city zip } } }
      }
    }
  }`;

const REQUEST_ACCESS = gql`
  mutation RequestAccess($input: RequestAccessInput!) {
    requestAccess(input: $input) { accessRequest { id status requestedRole } userErrors { field message code severity } }
  }`;

const RENAME = gql`
  mutation UpdateBusiness($input: UpdateBusinessInput!) {
    updateBusiness(input: $input) { organization { id name } userErrors { field message code severity } }
  }`;

interface Business { id: string; name: string; orgCode: number }
interface FacilityRow {
  id: string; cersId: number; name: string; city: string | null; county: string; complianceStatus: string;
  annualDueDate: string; siteAddress: { street: string | null; city: string | null; zip: string | null } | null;
}
interface OrgData {
  me: { id: string; memberships: { role: string; organization: { id: string } | null }[] | null } | null;
  organization: {
    id: string; name: string; orgCode: number;
    facilities: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: FacilityRow }[] };
  } | null;
}

export function Businesses() {
  const state = useQuery<{ myBusinesses: { totalCount: number; edges: { node: Business }[] };
    me: { memberships: { role: string; organization: { id: string } | null }[] | null } | null }>(MY_BUSINESSES);
  return (
    <Page title="Select Business" actions={<Link to="/request-access" className="button secondary">Request access</Link>}>
      <Loaded state={state}>{(data) => {
        const roles = new Map((data.me?.memberships ?? []).map((m) => [m.organization?.id, m.role]));
        if (!data.myBusinesses.edges.length) {
          return <Empty><p>You do not belong to a business yet.</p>
            <p><Link to="/request-access">Request access to a business by its facility's CERS ID</Link>, or ask its lead user to add you.</p></Empty>;
        }
        return (
          <ul className="cards">
            {data.myBusinesses.edges.map(({ node }) => (
              <li key={node.id} className="card">
                <h2><Link to={`/businesses/${node.id}`}>{node.name}</Link></h2>
                <p>Org code {node.orgCode}{roles.get(node.id) ? ` · your level: ${roles.get(node.id)?.replace("_", " ").toLowerCase()}` : ""}</p>
              </li>
            ))}
          </ul>
        );
      }}</Loaded>
    </Page>
  );
}

export function BusinessTabs({ id, current }: { id: string; current: "facilities" | "people" }) {
  return (
    <nav aria-label="Business" className="tabs">
      <Link to={`/businesses/${id}`} aria-current={current === "facilities" ? "page" : undefined}>Facilities</Link>
      <Link to={`/businesses/${id}/people`} aria-current={current === "people" ? "page" : undefined}>People</Link>
    </nav>
  );
}

export function FacilityTable({ rows }: { rows: FacilityRow[] }) {
  return (
    <div className="table-wrap">
      <table className="facilities">
        <caption className="sr-only">Facilities</caption>
        <thead><tr><th scope="col">CERS ID</th><th scope="col">Facility</th><th scope="col">County</th>
          <th scope="col">Compliance</th><th scope="col">Annual due date</th></tr></thead>
        <tbody>
          {rows.map((f) => (
            <tr key={f.id}>
              <td data-label="CERS ID">{f.cersId}</td>
              <td data-label="Facility"><Link to={`/facilities/${f.id}`}>{f.name}</Link>
                <div className="muted">{[f.siteAddress?.street, f.city].filter(Boolean).join(", ")}</div></td>
              <td data-label="County">{f.county}</td>
              <td data-label="Compliance"><Badge status={f.complianceStatus} /></td>
              <td data-label="Due">{formatDate(f.annualDueDate)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RenameBusiness({ id, name, onDone }: { id: string; name: string; onDone: (m: string) => void }) {
  const [value, setValue] = useState(name);
  const [errors, setErrors] = useState<UserError[] | null>(null);
  const rename = useMutation<{ updateBusiness: { organization: { name: string } | null; userErrors: UserError[] } }>(RENAME);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const data = await rename.run({ input: { organizationId: id, name: value } });
    if (!data) return;
    setErrors(data.updateBusiness.userErrors);
    if (data.updateBusiness.organization) onDone(`The business is now called ${data.updateBusiness.organization.name}.`);
  };
  return (
    <form className="card form" onSubmit={submit} aria-labelledby="rename-h">
      <h2 id="rename-h">Business name</h2>
      <p className="muted">The org code and the facilities stay the same. Facility names are changed on each facility.</p>
      {rename.error ? <ErrorNotice error={rename.error} /> : null}
      <UserErrors errors={errors} />
      <div className="field">
        <label htmlFor="business-name">Name of the business</label>
        <input id="business-name" value={value} maxLength={200} onChange={(e) => setValue(e.target.value)} required />
      </div>
      <button type="submit" disabled={rename.busy || !value.trim() || value.trim() === name}>Rename business</button>
    </form>
  );
}

export function Organization({ id }: { id: string }) {
  const { query } = useLocation();
  const after = query.get("after");
  const state = useQuery<OrgData>(ORGANIZATION, { id, after });
  const [notice, setNotice] = useState<string | null>(null);
  const title = state.data?.organization?.name ?? "Business";
  return (
    <Page title={title}>
      <BusinessTabs id={id} current="facilities" />
      {notice ? <Success>{notice}</Success> : null}
      <Loaded state={state}>{(data) => {
        const org = data.organization;
        if (!org) return <ErrorNotice error="This business was not found, or you are not one of its people." />;
        const page = org.facilities;
        const lead = data.me?.memberships?.some((m) => m.organization?.id === org.id && m.role === "LEAD_USER");
        return (
          <>
            <p className="muted">Org code {org.orgCode} · {page.totalCount} facilit{page.totalCount === 1 ? "y" : "ies"}</p>
            {page.edges.length ? <FacilityTable rows={page.edges.map((e) => e.node)} />
              : <Empty><p>This business has no facilities yet.</p></Empty>}
            <div className="pager">
              {after ? <Link to={`/businesses/${id}`}>First page</Link> : null}
              {page.pageInfo.hasNextPage && page.pageInfo.endCursor
                ? <Link to={withQuery(`/businesses/${id}`, { after: page.pageInfo.endCursor })}>Next page</Link> : null}
            </div>
            {lead ? <RenameBusiness id={org.id} name={org.name} onDone={(m) => { setNotice(m); state.reload(); }} /> : null}
          </>
        );
      }}</Loaded>
    </Page>
  );
}

const ROLES = ["VIEWER", "EDITOR", "APPROVER", "LEAD_USER"];

export function RoleSelect({ id, label, value, onChange, roles = ROLES }: {
  id: string; label: string; value: string; onChange: (v: string) => void; roles?: string[];
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        {roles.map((r) => <option key={r} value={r}>{r.replace("_", " ").toLowerCase()}</option>)}
      </select>
    </div>
  );
}

export function RequestAccess() {
  const [cersId, setCersId] = useState("");
  const [role, setRole] = useState("EDITOR");
  const [message, setMessage] = useState("");
  const [errors, setErrors] = useState<UserError[] | null>(null);
  const [sent, setSent] = useState(false);
  const mutation = useMutation<{ requestAccess: { accessRequest: { id: string } | null; userErrors: UserError[] } }>(REQUEST_ACCESS);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const number = Number(cersId);
    if (!/^\d{8}$/.test(cersId.trim())) {
      setErrors([{ field: ["cersId"], message: "A CERS ID is the facility's 8-digit number, such as 10000001.", code: "BAD_USER_INPUT", severity: "ERROR" }]);
      return;
    }
    const data = await mutation.run({ input: { cersId: number, requestedRole: role, message: message || null } });
    if (!data) return;
    setErrors(data.requestAccess.userErrors);
    setSent(Boolean(data.requestAccess.accessRequest));
  };
  if (sent) {
    return (
      <Page title="Access requested">
        <Success>Your request for facility {cersId} is sent. The business's lead users decide it; you will have access as soon as they approve.</Success>
        <p><Link to="/businesses">Back to my businesses</Link></p>
      </Page>
    );
  }
  const cersError = errors?.find((e) => e.field?.includes("cersId"));
  return (
    <Page title="Request access to a business">
      <form className="form" onSubmit={submit} noValidate>
        <p>Ask for access to the business that reports a facility. Its lead users decide.</p>
        {mutation.error ? <ErrorNotice error={mutation.error} /> : null}
        <UserErrors errors={errors?.filter((e) => e !== cersError)} />
        <div className="field">
          <label htmlFor="f-cersId">Facility CERS ID</label>
          <input id="f-cersId" inputMode="numeric" value={cersId} onChange={(e) => setCersId(e.target.value)}
            aria-invalid={cersError ? true : undefined} aria-describedby={cersError ? "f-cersId-err" : undefined} required />
          {cersError ? <p className="field-error" id="f-cersId-err">{cersError.message}</p> : null}
        </div>
        <RoleSelect id="f-role" label="Permission level you need" value={role} onChange={setRole} />
        <div className="field">
          <label htmlFor="f-message">Message to the lead users (optional)</label>
          <textarea id="f-message" value={message} maxLength={500} onChange={(e) => setMessage(e.target.value)} />
        </div>
        <button type="submit" disabled={mutation.busy}>Send request</button>
      </form>
    </Page>
  );
}

