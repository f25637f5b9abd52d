import { useState, type FormEvent } from "react";
import { gql, type UserError } from "../api";
import { Link } from "../router";
import { Empty, ErrorNotice, formatDate, fullName, humanize, Loaded, Page, Success, UserErrors, useMutation, useQuery } from "../ui";

const MY_AGENCIES = gql`query MyAgencies { myAgencies { id name kind counties cities phone staff { role } } }`;
const AGENCY = gql`
  query AgencyStaff {
    me { id }
    myAgencies {
      id name kind counties cities phone email address website defaultDueDate certificationWindowDays
      staff { email role grantedAt pending user { id firstName lastName } }
      accessRequests(first: 50) { id requestedRole status message createdAt requester { firstName lastName username } facility { cersId name } }
    }
  }`;
const ADD = gql`mutation AddAgencyStaff($input: AgencyStaffInput!) { addAgencyStaff(input: $input) { staffMember { email role pending } userErrors { field message code severity } } }`;
const CHANGE = gql`mutation ChangeAgencyStaffRole($input: AgencyStaffInput!) { changeAgencyStaffRole(input: $input) { staffMember { email role } userErrors { field message code severity } } }`;
const REMOVE = gql`mutation RemoveAgencyStaff($input: AgencyStaffInput!) { removeAgencyStaff(input: $input) { userErrors { field message code severity } } }`;
const UPDATE_AGENCY = gql`mutation UpdateAgency($input: UpdateAgencyInput!) { updateAgency(input: $input) { agency { id phone email address website certificationWindowDays } userErrors { field message code severity } } }`;
const DEFAULT_DUE = gql`mutation SetAgencyDefaultDueDate($input: SetAgencyDefaultDueDateInput!) { setAgencyDefaultDueDate(input: $input) { agency { id defaultDueDate } userErrors { field message code severity } } }`;

const ROLES = ["VIEWER", "INSPECTOR", "APPROVER", "ADMIN"];
interface Staff { email: string; role: string; grantedAt: string; pending: boolean; user: { id: string; firstName: string; lastName: string } | null }
interface Agency {
  id: string; name: string; kind: string; counties: string[]; cities: string[]; phone: string | null; email: string | null;
  address: string | null; website: string | null; defaultDueDate: string; certificationWindowDays: number; staff: Staff[] | null;
  accessRequests: { id: string; requestedRole: string; status: string; message: string | null; createdAt: string;
    requester: { firstName: string; lastName: string; username: string }; facility: { cersId: number; name: string } | null }[] | null;
}
type Result = { userErrors: UserError[] };

export function Agencies() {
  const state = useQuery<{ myAgencies: { id: string; name: string; kind: string; counties: string[]; cities: string[]; phone: string | null; staff: { role: string }[] | null }[] }>(MY_AGENCIES);
  return (
    <Page title="My agency">
      <Loaded state={state}>{(data) => {
        const mine = data.myAgencies;
        if (!mine.length) return <Empty><p>You are not on an agency's staff yet. Ask your agency's admin to add you with your account's email address.</p></Empty>;
        return <ul className="cards">{mine.map((a) => (
          <li key={a.id} className="card"><h2><Link to={`/agencies/${a.id}`}>{a.name}</Link></h2>
            <p>{a.kind} · {[...a.counties, ...a.cities].join(", ")} · {a.staff?.length} staff</p></li>
        ))}</ul>;
      }}</Loaded>
    </Page>
  );
}

function StaffRow({ agencyId, member, onDone }: { agencyId: string; member: Staff; onDone: (m: string) => void }) {
  const [role, setRole] = useState(member.role);
  const [errors, setErrors] = useState<UserError[] | null>(null);
  const change = useMutation<{ changeAgencyStaffRole: Result }>(CHANGE);
  const remove = useMutation<{ removeAgencyStaff: Result }>(REMOVE);
  const save = async () => {
    const data = await change.run({ input: { agencyId, email: member.email, role } });
    if (!data) return;
    setErrors(data.changeAgencyStaffRole.userErrors);
    if (!data.changeAgencyStaffRole.userErrors.length) onDone(`${member.email} is now ${humanize(role).toLowerCase()}.`);
  };
  const drop = async () => {
    if (!window.confirm(`Remove ${member.email} from the agency's staff?`)) return;
    const data = await remove.run({ input: { agencyId, email: member.email } });
    if (!data) return;
    setErrors(data.removeAgencyStaff.userErrors);
    if (!data.removeAgencyStaff.userErrors.length) onDone(`${member.email} was removed.`);
  };
  return (
    <tr>
      <td data-label="Name">{member.user ? fullName(member.user) : "—"}{member.pending ? <span className="tag">waiting for sign-up</span> : null}</td>
      <td data-label="Email">{member.email}</td>
      <td data-label="Role"><div className="row">
        <label className="sr-only" htmlFor={`staff-${member.email}`}>Role of {member.email}</label>
        <select id={`staff-${member.email}`} value={role} onChange={(e) => setRole(e.target.value)}>
          {ROLES.map((r) => <option key={r} value={r}>{humanize(r)}</option>)}
        </select>
        {role !== member.role ? <button type="button" onClick={() => void save()} disabled={change.busy}>Save role</button> : null}
      </div>
        {change.error || remove.error ? <ErrorNotice error={change.error ?? remove.error} /> : null}
        <UserErrors errors={errors} /></td>
      <td data-label="Since">{formatDate(member.grantedAt)}</td>
      <td><button type="button" className="secondary" onClick={() => void drop()} aria-label={`Remove ${member.email}`}>Remove</button></td>
    </tr>
  );
}

function AddStaff({ agencyId, onDone }: { agencyId: string; onDone: (m: string) => void }) {
  const [email, setEmail] = useState("");
  const [role, setRole] = useState("INSPECTOR");
  const [errors, setErrors] = useState<UserError[] | null>(null);
  const add = useMutation<{ addAgencyStaff: Result }>(ADD);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const data = await add.run({ input: { agencyId, email, role } });
    if (!data) return;
    setErrors(data.addAgencyStaff.userErrors);
    if (!data.addAgencyStaff.userErrors.length) { onDone(`${email} is added as ${humanize(role).toLowerCase()}.`); setEmail(""); }
  };
  return (
    <form className="card form" onSubmit={submit} aria-labelledby="addstaff-h">
      <h2 id="addstaff-h">Add staff</h2>
      {add.error ? <ErrorNotice error={add.error} /> : null}
      <UserErrors errors={errors} />
      <div className="field"><label htmlFor="staff-email">Email of their Regulator Portal account</label>
        <input id="staff-email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} required /></div>
      <div className="field"><label htmlFor="staff-role">Role</label>
        <select id="staff-role" value={role} onChange={(e) => setRole(e.target.value)}>{ROLES.map((r) => <option key={r} value={r}>{humanize(r)}</option>)}</select></div>
      <button type="submit" disabled={add.busy}>Add staff</button>
    </form>
  );
}

function DefaultDueDate({ agency, onDone }: { agency: Agency; onDone: (m: string) => void }) {
  const [month, day] = agency.defaultDueDate.split("-");
  const [value, setValue] = useState({ month: Number(month), day: Number(day) });
  const [errors, setErrors] = useState<UserError[] | null>(null);
  const run = useMutation<{ setAgencyDefaultDueDate: Result }>(DEFAULT_DUE);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const data = await run.run({ input: { agencyId: agency.id, ...value } });
    if (!data) return;
    setErrors(data.setAgencyDefaultDueDate.userErrors);
    if (!data.setAgencyDefaultDueDate.userErrors.length) onDone("The agency's default annual due date is saved.");
  };
  return (
    <form className="card form" onSubmit={submit} aria-labelledby="defdue-h">
      <h2 id="defdue-h">Default annual due date</h2>
      {run.error ? <ErrorNotice error={run.error} /> : null}
      <UserErrors errors={errors} />
      <div className="row">
        <div className="field"><label htmlFor="due-month">Month</label>
          <input id="due-month" type="number" min={1} max={12} value={value.month} onChange={(e) => setValue({ ...value, month: Number(e.target.value) })} /></div>
        <div className="field"><label htmlFor="due-day">Day</label>
          <input id="due-day" type="number" min={1} max={31} value={value.day} onChange={(e) => setValue({ ...value, day: Number(e.target.value) })} /></div>
      </div>
      <button type="submit" disabled={run.busy}>Save default</button>
    </form>
  );
}

function AgencyDetails({ agency, onDone }: { agency: Agency; onDone: (m: string) => void }) {
  const [value, setValue] = useState({
    phone: agency.phone ?? "", email: agency.email ?? "", address: agency.address ?? "",
    website: agency.website ?? "", certificationWindowDays: agency.certificationWindowDays,
  });
  const [errors, setErrors] = useState<UserError[] | null>(null);
  const run = useMutation<{ updateAgency: Result }>(UPDATE_AGENCY);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const data = await run.run({ input: { agencyId: agency.id, ...value } });
    if (!data) return;
    setErrors(data.updateAgency.userErrors);
    if (!data.updateAgency.userErrors.length) onDone("The agency's public details are saved.");
  };
  const errorOf = (field: string) => errors?.find((e) => e.field?.includes(field))?.message;
  const text = (field: "phone" | "email" | "address" | "website", label: string, type = "text") => (
    <div className="field">
      <label htmlFor={`agency-${field}`}>{label}</label>
      <input id={`agency-${field}`} type={type} value={value[field]} onChange={(e) => setValue({ ...value, [field]: e.target.value })}
        aria-invalid={errorOf(field) ? true : undefined} aria-describedby={errorOf(field) ? `agency-${field}-err` : undefined} />
      {errorOf(field) ? <p className="field-error" id={`agency-${field}-err`}>{errorOf(field)}</p> : null}
    </div>
  );
  return (
    <form className="card form" onSubmit={submit} aria-labelledby="details-h" noValidate>
      <h2 id="details-h">Public contact details</h2>
      <p className="muted">Businesses see these on their facilities' pages. Leave a field empty to remove it.</p>
      {run.error ? <ErrorNotice error={run.error} /> : null}
      <UserErrors errors={errors?.filter((e) => !e.field?.length)} />
      {text("phone", "Phone", "tel")}
      {text("email", "Email", "email")}
      {text("address", "Address")}
      {text("website", "Website", "url")}
      <div className="field">
        <label htmlFor="agency-window">Certification opens (days before the annual due date)</label>
        <input id="agency-window" type="number" min={1} max={180} value={value.certificationWindowDays}
          onChange={(e) => setValue({ ...value, certificationWindowDays: Number(e.target.value) })}
          aria-invalid={errorOf("certificationWindowDays") ? true : undefined}
          aria-describedby={errorOf("certificationWindowDays") ? "agency-window-err" : undefined} />
        {errorOf("certificationWindowDays") ? <p className="field-error" id="agency-window-err">{errorOf("certificationWindowDays")}</p> : null}
      </div>
      <button type="submit" disabled={run.busy}>Save details</button>
    </form>
  );
}

export function AgencyPage({ id }: { id: string }) {
  const state = useQuery<{ me: { id: string } | null; myAgencies: Agency[] }>(AGENCY);
  const [notice, setNotice] = useState<string | null>(null);
  const done = (m: string) => { setNotice(m); state.reload(); };
  const agency = state.data?.myAgencies.find((a) => a.id === id);
  return (
    <Page title={agency?.name ?? "Agency"}>
      {notice ? <Success>{notice}</Success> : null}
      <Loaded state={state}>{() => {
        if (!agency || agency.staff === null) return <ErrorNotice error="This agency was not found, or you are not on its staff." />;
        const admin = agency.staff.some((m) => m.user?.id === state.data?.me?.id && m.role === "ADMIN");
        return (
          <>
            <p>{agency.kind} · {[...agency.counties, ...agency.cities].join(", ")}{agency.phone ? ` · ${agency.phone}` : ""}{agency.address ? ` · ${agency.address}` : ""}
              {" "}· certification opens {agency.certificationWindowDays} days before the due date</p>
            <section aria-labelledby="staff-h">
              <h2 id="staff-h">Staff ({agency.staff.length})</h2>
              <div className="table-wrap"><table>
                <thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Since</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
                <tbody>{agency.staff.map((m) => <StaffRow key={m.email} agencyId={agency.id} member={m} onDone={done} />)}</tbody>
              </table></div>
            </section>
            <div className="grid two">
              <AddStaff agencyId={agency.id} onDone={done} />
              <DefaultDueDate agency={agency} onDone={done} />
            </div>
            {admin ? <AgencyDetails key={`${agency.phone}|${agency.email}|${agency.address}|${agency.website}|${agency.certificationWindowDays}`}
              agency={agency} onDone={done} /> : null}
            {agency.accessRequests?.length ? (
              <section aria-labelledby="areq-h">
                <h2 id="areq-h">Access requests for businesses without a lead user</h2>
                <ul>{agency.accessRequests.map((r) => <li key={r.id}>{fullName(r.requester)} ({r.requester.username}) · {humanize(r.requestedRole)}
                  {r.facility ? ` · facility ${r.facility.cersId}` : ""} · {r.status.toLowerCase()}</li>)}</ul>
              </section>
            ) : null}
          </>
        );
      }}</Loaded>
    </Page>
  );
}
