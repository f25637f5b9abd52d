import { useState, type FormEvent } from "react";
import { gql, type UserError } from "../api";
import { TextField } from "./Account";
import { BusinessTabs, RoleSelect } from "./Businesses";
import {
  Empty, ErrorNotice, formatDate, fullName, Loaded, Page, Success, UserErrors, useMutation, useQuery,
} from "../ui";

const PEOPLE = gql`
  query People($id: ID!) {
    me { id }
    organization(id: $id) {
      id name
      people { user { id } role grantedAt firstName lastName title email phone }
      invitations { id email role status expiresAt firstName lastName }
      accessRequests {
        id requestedRole status message createdAt
        requester { id firstName lastName username }
        facility { cersId name }
      }
    }
  }`;


const ADD_PERSON = gql`
  mutation AddPerson($input: AddPersonInput!) {
    addPerson(input: $input) { membership { role } invitation { id email } userErrors { field message code severity } }
  }`;
const CHANGE_ROLE = gql`
  mutation ChangePersonRole($input: PersonInput!) {
    changePersonRole(input: $input) { membership { role } userErrors { field message code severity } }
  }`;
const REMOVE_PERSON = gql`
  mutation RemovePerson($input: PersonInput!) {
    removePerson(input: $input) { userErrors { field message code severity } }
  }`;
const DECIDE = gql`
  mutation DecideAccessRequest($input: DecideAccessRequestInput!) {
    decideAccessRequest(input: $input) { accessRequest { id status } userErrors { field message code severity } }
  }`;
const CANCEL_INVITATION = gql`
  mutation CancelInvitation($input: InvitationInput!) {
    cancelInvitation(input: $input) { invitation { id status } userErrors { field message code severity } }
  }`;
const RESEND_INVITATION = gql`
  mutation ResendInvitation($input: InvitationInput!) {
    resendInvitation(input: $input) { invitation { id status } userErrors { field message code severity } }
  }`;

interface Person {
  user: { id: string }; role: string; grantedAt: string; firstName: string | null; lastName: string | null;
  title: string | null; email: string | null; phone: string | null;
}
interface Invitation { id: string; email: string; role: string; status: string; expiresAt: string; firstName: string | null; lastName: string | null }
interface AccessRequest {
  id: string; requestedRole: string; status: string; message: string | null; createdAt: string;
  requester: { id: string; firstName: string; lastName: string; username: string };
  facility: { cersId: number; name: string } | null;
}
interface PeopleData {
  me: { id: string } | null;
  organization: { id: string; name: string; people: Person[] | null; invitations: Invitation[] | null; accessRequests: AccessRequest[] | null } | null;
}
type Result = { userErrors: UserError[] };

function AddPerson({ orgId, done }: { orgId: string; done: (message: string) => void }) {
  const [form, setForm] = useState<Record<string, string>>({ role: "EDITOR" });
  const [errors, setErrors] = useState<UserError[] | null>(null);
  const add = useMutation<{ addPerson: Result & { membership: unknown; invitation: { email: string } | null } }>(ADD_PERSON);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const data = await add.run({ input: {
      organizationId: orgId, email: form.email ?? "", firstName: form.firstName || null, lastName: form.lastName || null,
      title: form.title || null, phone: form.phone || null, role: form.role,
    } });
    if (!data) return;
    setErrors(data.addPerson.userErrors);
    if (data.addPerson.userErrors.length) return;
    done(data.addPerson.membership ? `${form.email} now has access.` : `An invitation is emailed to ${form.email}.`);
    setForm({ role: "EDITOR" });
  };
  return (
    <form className="form card" onSubmit={submit} aria-labelledby="add-h" noValidate>
      <h2 id="add-h">Add a person</h2>
      {add.error ? <ErrorNotice error={add.error} /> : null}
      <UserErrors errors={errors?.filter((e) => !e.field?.length)} />
      <TextField name="email" label="Email" type="email" form={form} set={setForm} required errors={errors} />
      <div className="grid two">
        <TextField name="firstName" label="First name" form={form} set={setForm} errors={errors} />
        <TextField name="lastName" label="Last name" form={form} set={setForm} errors={errors} />
        <TextField name="title" label="Title" form={form} set={setForm} errors={errors} />
        <TextField name="phone" label="Phone" type="tel" form={form} set={setForm} errors={errors} />
      </div>
      <RoleSelect id="add-role" label="Permission level" value={form.role} onChange={(role) => setForm({ ...form, role })} />
      <button type="submit" disabled={add.busy}>Add person</button>
    </form>
  );
}

function PersonRow({ orgId, person, me, changed }: { orgId: string; person: Person; me: string | undefined; changed: (m: string) => void }) {
  const [role, setRole] = useState(person.role);
  const [errors, setErrors] = useState<UserError[] | null>(null);
  const change = useMutation<{ changePersonRole: Result }>(CHANGE_ROLE);
  const remove = useMutation<{ removePerson: Result }>(REMOVE_PERSON);
  const name = fullName(person);
  const save = async () => {
    const data = await change.run({ input: { organizationId: orgId, userId: person.user.id, role } });
    if (!data) return;
    setErrors(data.changePersonRole.userErrors);
    if (!data.changePersonRole.userErrors.length) changed(`${name} is now ${role.replace("_", " ").toLowerCase()}.`);
  };
  const drop = async () => {
    const self = person.user.id === me;
    if (!window.confirm(self ? "Leave this business? You lose access to its facilities." : `Remove ${name} from this business?`)) return;
    const data = await remove.run({ input: { organizationId: orgId, userId: person.user.id } });
    if (!data) return;
    setErrors(data.removePerson.userErrors);
    if (!data.removePerson.userErrors.length) changed(self ? "You left the business." : `${name} was removed.`);
  };
  return (
    <tr>
      <td data-label="Name">{name}{person.user.id === me ? " (you)" : ""}<div className="muted">{person.title}</div></td>
      <td data-label="Contact">{person.email}<div className="muted">{person.phone}</div></td>
      <td data-label="Level">
        <div className="row">
          <label className="sr-only" htmlFor={`role-${person.user.id}`}>Permission level of {name}</label>
          <select id={`role-${person.user.id}`} value={role} onChange={(e) => setRole(e.target.value)}>
            {["VIEWER", "EDITOR", "APPROVER", "LEAD_USER"].map((r) => <option key={r} value={r}>{r.replace("_", " ").toLowerCase()}</option>)}
          </select>
          {role !== person.role ? <button type="button" onClick={() => void save()} disabled={change.busy}>Save level</button> : null}
        </div>
        {change.error || remove.error ? <ErrorNotice error={change.error ?? remove.error} /> : null}
        <UserErrors errors={errors} />
      </td>
      <td data-label="Since">{formatDate(person.grantedAt)}</td>
      <td><button type="button" className="secondary" onClick={() => void drop()} disabled={remove.busy}
        aria-label={`Remove ${name}`}>Remove</button></td>
    </tr>
  );
}

function RequestRow({ request, decided }: { request: AccessRequest; decided: (m: string) => void }) {
  const [role, setRole] = useState(request.requestedRole);
  const [errors, setErrors] = useState<UserError[] | null>(null);
  const decide = useMutation<{ decideAccessRequest: Result }>(DECIDE);
  const name = fullName(request.requester);
  const run = async (decision: "APPROVE" | "DENY") => {
    const data = await decide.run({ input: { id: request.id, decision, role: decision === "APPROVE" ? role : null } });
    if (!data) return;
    setErrors(data.decideAccessRequest.userErrors);
    if (!data.decideAccessRequest.userErrors.length) decided(`${name}'s request was ${decision === "APPROVE" ? "approved" : "denied"}.`);
  };
  return (
    <li className="card">
      <p><strong>{name}</strong> ({request.requester.username}) asks for <strong>{request.requestedRole.replace("_", " ").toLowerCase()}</strong>
        {request.facility ? ` via facility ${request.facility.cersId} ${request.facility.name}` : ""} · {formatDate(request.createdAt)}</p>
      {request.message ? <blockquote>{request.message}</blockquote> : null}
      {decide.error ? <ErrorNotice error={decide.error} /> : null}
      <UserErrors errors={errors} />
      {request.status === "PENDING" ? (
        <div className="row">
          <RoleSelect id={`grant-${request.id}`} label="Grant level" value={role} onChange={setRole} />
          <button type="button" onClick={() => void run("APPROVE")} disabled={decide.busy}>Approve</button>
          <button type="button" className="secondary" onClick={() => void run("DENY")} disabled={decide.busy}>Deny</button>
        </div>
      ) : <p className="muted">{request.status.toLowerCase()}</p>}
    </li>
  );
}

function InvitationRow({ invitation, changed }: { invitation: Invitation; changed: (m: string) => void }) {
  const cancel = useMutation<{ cancelInvitation: Result }>(CANCEL_INVITATION);
  const resend = useMutation<{ resendInvitation: Result }>(RESEND_INVITATION);
  const act = async (which: "cancel" | "resend") => {
    const data = which === "cancel"
      ? (await cancel.run({ input: { invitationId: invitation.id } }))?.cancelInvitation
      : (await resend.run({ input: { invitationId: invitation.id } }))?.resendInvitation;
    if (data && !data.userErrors.length) changed(which === "cancel" ? `The invitation to ${invitation.email} is cancelled.` : `The invitation to ${invitation.email} is sent again.`);
  };
  return (
    <tr>
      <td data-label="Email">{invitation.email}</td>
      <td data-label="Level">{invitation.role.replace("_", " ").toLowerCase()}</td>
      <td data-label="Status">{invitation.status.toLowerCase()}</td>
      <td data-label="Expires">{formatDate(invitation.expiresAt)}</td>
      <td>{invitation.status === "PENDING" ? <div className="row">
        <button type="button" className="secondary" onClick={() => void act("resend")}>Resend</button>
        <button type="button" className="secondary" onClick={() => void act("cancel")}>Cancel</button></div> : null}
        {cancel.error || resend.error ? <ErrorNotice error={cancel.error ?? resend.error} /> : null}</td>
    </tr>
  );
}

export function People({ id }: { id: string }) {
  const state = useQuery<PeopleData>(PEOPLE, { id });
  const [notice, setNotice] = useState<string | null>(null);
  const changed = (message: string) => { setNotice(message); state.reload(); };
  return (
    <Page title={state.data?.organization ? `People · ${state.data.organization.name}` : "People"}>
      <BusinessTabs id={id} current="people" />
      {notice ? <Success>{notice}</Success> : null}
      <Loaded state={state}>{(data) => {
        const org = data.organization;
        if (!org || !org.people) return <ErrorNotice error="This business was not found, or you are not one of its people." />;
        const lead = org.invitations !== null;
        const pending = (org.accessRequests ?? []).filter((r) => r.status === "PENDING");
        return (
          <>
            {lead && (
              <section aria-labelledby="requests-h">
                <h2 id="requests-h">Access requests</h2>
                {pending.length ? <ul className="cards">{pending.map((r) => <RequestRow key={r.id} request={r} decided={changed} />)}</ul>
                  : <Empty><p>No one is waiting for access.</p></Empty>}
              </section>
            )}
            <section aria-labelledby="people-h">
              <h2 id="people-h">People ({org.people.length})</h2>
              <div className="table-wrap">
                <table>
                  <thead><tr><th scope="col">Name</th><th scope="col">Contact</th><th scope="col">Level</th><th scope="col">Since</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
                  <tbody>{org.people.map((p) => lead
                    ? <PersonRow key={p.user.id} orgId={org.id} person={p} me={data.me?.id} changed={changed} />
                    : <tr key={p.user.id}><td data-label="Name">{fullName(p)}</td><td data-label="Contact">{p.email}</td>
                      <td data-label="Level">{p.role.replace("_", " ").toLowerCase()}</td><td data-label="Since">{formatDate(p.grantedAt)}</td><td /></tr>)}
                  </tbody>
                </table>
              </div>
              {!lead ? <p className="muted">Only lead users can add people or change levels.</p> : null}
            </section>
            {lead && org.invitations && org.invitations.length > 0 && (
              <section aria-labelledby="inv-h">
                <h2 id="inv-h">Invitations</h2>
                <div className="table-wrap"><table>
                  <thead><tr><th scope="col">Email</th><th scope="col">Level</th><th scope="col">Status</th><th scope="col">Expires</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
                  <tbody>{org.invitations.map((i) => <InvitationRow key={i.id} invitation={i} changed={changed} />)}</tbody>
                </table></div>
              </section>
            )}
            {lead ? <AddPerson orgId={org.id} done={changed} /> : null}
          </>
        );
      }}</Loaded>
    </Page>
  );
}
