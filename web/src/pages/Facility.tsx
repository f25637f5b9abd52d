import { useState, type FormEvent } from "react";
import { ApiError, explain, gql, type UserError } from "../api";
import { currentSession } from "../auth";
import { Link, navigate } from "../router";
import {
  Badge, ELEMENT_NAMES, ELEMENT_TYPES, Empty, ErrorNotice, formatDate, formatDateTime, fullName, HMBP, humanize,
  LiveBadge, Loaded, Page, Success, UserErrors, useLive, useMutation, useQuery,
} from "../ui";

const FACILITY = gql`
  query FacilityPage($id: ID!) {
    me { id memberships { role organization { id } } }
    facility(id: $id) {
      id cersId name county city complianceStatus annualDueDate certificationOpensOn lastAnnualUpdateAt
      siteAddress { street city state zip }
      mailingAddress { street city state zip }
      updateRequiredReasons { reason dueBy element }
      organization { id name }
      regulator { id name phone email website }
      permits { id number issuedAt expiresAt issuedBy { firstName lastName } }
      history { id at action changes actor { firstName lastName } systemActor { kind name } }
      submittalElements {
        id element status submittedAt changeFromPrevious noChangeCertification
        submittedBy { firstName lastName }
        review { action comments reviewedAt reviewer { firstName lastName } }
      }
      drafts { id element status updatedAt basedOn validation { severity } }
    }
  }`;

const START = gql`
  mutation StartSubmittal($input: StartSubmittalInput!) {
    startSubmittal(input: $input) { element { id } userErrors { field message code severity } }
  }`;
const NO_CHANGE = gql`
  mutation CertifyNoChange($input: CertifyNoChangeInput!) {
    certifyNoChange(input: $input) { elements { id element status } userErrors { field message code severity } }
  }`;
const NOT_APPLICABLE = gql`
  mutation MarkNotApplicable($input: MarkNotApplicableInput!) {
    markNotApplicable(input: $input) { element { id status } userErrors { field message code severity } }
  }`;
const ISSUE_PERMIT = gql`
  mutation IssuePermit($input: IssuePermitInput!) {
    issuePermit(input: $input) { permit { id number expiresAt } userErrors { field message code severity } }
  }`;
const SET_DUE = gql`
  mutation SetAnnualDueDate($input: SetAnnualDueDateInput!) {
    setAnnualDueDate(input: $input) { facility { id annualDueDate complianceStatus } userErrors { field message code severity } }
  }`;

interface Element {
  id: string; element: string; status: string; submittedAt: string | null; changeFromPrevious: string | null;
  noChangeCertification: boolean; submittedBy: { firstName: string; lastName: string } | null;
  review: { action: string; comments: string | null; reviewedAt: string; reviewer: { firstName: string; lastName: string } | null } | null;
}
interface Draft { id: string; element: string; status: string; updatedAt: string; basedOn: string; validation: { severity: string }[] }
interface Address { street: string | null; city: string | null; state: string | null; zip: string | null }
interface Facility {
  id: string; cersId: number; name: string; county: string; city: string | null; complianceStatus: string;
  annualDueDate: string; certificationOpensOn: string; lastAnnualUpdateAt: string | null; siteAddress: Address | null; mailingAddress: Address | null;
  updateRequiredReasons: { reason: string; dueBy: string; element: string | null }[];
  organization: { id: string; name: string } | null;
  regulator: { id: string; name: string; phone: string | null; email: string | null; website: string | null } | null;
  permits: { id: string; number: string; issuedAt: string; expiresAt: string; issuedBy: { firstName: string; lastName: string } | null }[];
  history: { id: string; at: string; action: string; changes: unknown; actor: { firstName: string; lastName: string } | null;
    systemActor: { kind: string; name: string } | null }[] | null;
  // Null when the submittal service cannot answer; the rest of the page still shows.
  submittalElements: Element[] | null; drafts: Draft[] | null;
}
interface FacilityData { me: { id: string; memberships: { role: string; organization: { id: string } | null }[] | null } | null; facility: Facility | null }
type Result = { userErrors: UserError[] };

const LEVELS = ["VIEWER", "EDITOR", "APPROVER", "LEAD_USER"];
const atLeast = (role: string | undefined, need: string) => role !== undefined && LEVELS.indexOf(role) >= LEVELS.indexOf(need);
const address = (a: Address | null) => (a ? [a.street, a.city, a.state, a.zip].filter(Boolean).join(", ") : "—");

function ElementRow({ facility, type, last, draft, canEdit, onChanged }: {
  facility: Facility; type: string; last: Element | undefined; draft: Draft | undefined; canEdit: boolean; onChanged: (m: string) => void;
}) {
  const start = useMutation<{ startSubmittal: Result & { element: { id: string } | null } }>(START);
  const notApplicable = useMutation<{ markNotApplicable: Result }>(NOT_APPLICABLE);
  const [errors, setErrors] = useState<UserError[] | null>(null);
  const begin = async (basedOn: "BLANK" | "LAST_SUBMITTAL") => {
    const data = await start.run({ input: { facilityId: facility.id, element: type, basedOn } });
    if (!data) return;
    setErrors(data.startSubmittal.userErrors);
    if (data.startSubmittal.element) navigate(`/elements/${data.startSubmittal.element.id}`);
  };
  const markNa = async () => {
    const data = await notApplicable.run({ input: { facilityId: facility.id, element: type } });
    if (!data) return;
    setErrors(data.markNotApplicable.userErrors);
    if (!data.markNotApplicable.userErrors.length) onChanged(`${ELEMENT_NAMES[type]} is marked not applicable.`);
  };
  const errorCount = draft?.validation.filter((v) => v.severity === "ERROR").length ?? 0;
  const name = ELEMENT_NAMES[type];
  return (
    <tr>
      <th scope="row" data-label="Element">{name}{HMBP.includes(type) ? <span className="tag">HMBP</span> : null}</th>
      <td data-label="Last submitted">{last ? <>
        <Link to={`/elements/${last.id}`}><Badge status={last.status} /></Link>
        <div className="muted">{formatDate(last.submittedAt)}{last.changeFromPrevious ? ` · ${humanize(last.changeFromPrevious)}` : ""}</div>
      </> : <span className="muted">Never submitted</span>}</td>
      <td data-label="Draft">{draft ? <>
        <Link to={`/elements/${draft.id}`}>Edit draft<span className="sr-only"> of {name}</span></Link>
        <div className="muted">{errorCount ? `${errorCount} error${errorCount > 1 ? "s" : ""} to fix` : "Ready"} · saved {formatDateTime(draft.updatedAt)}</div>
      </> : canEdit ? (
        <div className="row">
          <button type="button" className="secondary" disabled={start.busy} onClick={() => void begin("BLANK")}>Start blank<span className="sr-only"> {name}</span></button>
          {last && last.status !== "NOT_APPLICABLE" ? <button type="button" disabled={start.busy} onClick={() => void begin("LAST_SUBMITTAL")}>Start from last<span className="sr-only"> {name}</span></button> : null}
          {!HMBP.includes(type) && last?.status !== "NOT_APPLICABLE" ? <button type="button" className="link" disabled={notApplicable.busy}
            onClick={() => void markNa()}>Not applicable<span className="sr-only"> {name}</span></button> : null}
        </div>
      ) : <span className="muted">—</span>}
        {start.error || notApplicable.error ? <ErrorNotice error={start.error ?? notApplicable.error} /> : null}
        <UserErrors errors={errors} />
      </td>
    </tr>
  );
}

const STATEMENT = "I certify that the information in the last Hazardous Materials Business Plan submitted for this facility is complete, accurate and unchanged.";

function NoChange({ facility, onDone }: { facility: Facility; onDone: (m: string) => void }) {
  const [statement, setStatement] = useState(STATEMENT);
  const [errors, setErrors] = useState<UserError[] | null>(null);
  const certify = useMutation<{ certifyNoChange: Result & { elements: { id: string }[] } }>(NO_CHANGE);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const data = await certify.run({ input: { facilityId: facility.id, statement } });
    if (!data) return;
    setErrors(data.certifyNoChange.userErrors);
    if (!data.certifyNoChange.userErrors.some((e) => e.severity === "ERROR")) onDone("No change in HMBP is certified; the annual update is done for this cycle.");
  };
  return (
    <form className="card form" onSubmit={submit} aria-labelledby="nochange-h">
      <h3 id="nochange-h">No change in HMBP</h3>
      <p>Nothing changed since the last Hazardous Materials Business Plan? Certify it instead of preparing new drafts.</p>
      {certify.error ? <ErrorNotice error={certify.error} /> : null}
      <UserErrors errors={errors} />
      <div className="field">
        <label htmlFor="nochange-statement">Signed statement</label>
        <textarea id="nochange-statement" value={statement} onChange={(e) => setStatement(e.target.value)} rows={3} required />
      </div>
      <button type="submit" disabled={certify.busy}>Certify no change</button>
    </form>
  );
}

function RegulatorActions({ facility, onDone }: { facility: Facility; onDone: (m: string) => void }) {
  const nextYear = new Date(Date.now() + 365 * 864e5).toISOString().slice(0, 10);
  const [expiresAt, setExpiresAt] = useState(nextYear);
  const [dueDate, setDueDate] = useState(facility.annualDueDate);
  const [refusal, setRefusal] = useState<string | null>(null);
  const [errors, setErrors] = useState<UserError[] | null>(null);
  const permit = useMutation<{ issuePermit: Result & { permit: { number: string } | null } }>(ISSUE_PERMIT);
  const due = useMutation<{ setAnnualDueDate: Result }>(SET_DUE);
  const issue = async (event: FormEvent) => {
    event.preventDefault();
    setRefusal(null);
    const data = await permit.run({ input: { facilityId: facility.id, expiresAt } });
    if (!data) return;
    setErrors(data.issuePermit.userErrors);
    if (data.issuePermit.permit) onDone(`Permit ${data.issuePermit.permit.number} is issued.`);
  };
  const setDue = async (event: FormEvent) => {
    event.preventDefault();
    const data = await due.run({ input: { facilityId: facility.id, annualDueDate: dueDate } });
    if (!data) return;
    setErrors(data.setAnnualDueDate.userErrors);
    if (!data.setAnnualDueDate.userErrors.length) onDone(`The annual due date is now ${formatDate(dueDate)}.`);
  };
  const blocked = facility.complianceStatus === "OVERDUE" || facility.complianceStatus === "UPDATE_REQUIRED";
  return (
    <section aria-labelledby="reg-h" className="grid two">
      <h2 id="reg-h" className="sr-only">Regulator actions</h2>
      <form className="card form" onSubmit={issue} aria-labelledby="permit-h">
        <h3 id="permit-h">Issue a permit</h3>
        {blocked ? <p className="notice warning">This facility is <Badge status={facility.complianceStatus} />. A permit can be issued
          only while the facility is current or due soon: the annual update must be done first
          {facility.updateRequiredReasons.length ? ` (open: ${facility.updateRequiredReasons.map((r) => humanize(r.reason)).join(", ")})` : ""}.</p> : null}
        {permit.error || refusal ? <ErrorNotice error={refusal ?? permit.error} /> : null}
        <UserErrors errors={errors} />
        <div className="field">
          <label htmlFor="permit-expires">Permit expires on</label>
          <input id="permit-expires" type="date" value={expiresAt} onChange={(e) => setExpiresAt(e.target.value)} required />
        </div>
        <button type="submit" disabled={permit.busy}>Issue permit</button>
      </form>
      <form className="card form" onSubmit={setDue} aria-labelledby="due-h">
        <h3 id="due-h">Annual due date</h3>
        {due.error ? <ErrorNotice error={due.error} /> : null}
        <div className="field">
          <label htmlFor="due-date">Due date for this facility</label>
          <input id="due-date" type="date" value={dueDate} onChange={(e) => setDueDate(e.target.value)} required />
        </div>
        <button type="submit" disabled={due.busy}>Set due date</button>
      </form>
    </section>
  );
}

const SYSTEM_ACTORS: Record<string, string> = {
  OPERATOR_COMMAND: "the operator command",
  DEMO_SEED: "the demo data",
  SERVICE: "the service",
};

type HistoryEntry = NonNullable<Facility["history"]>[number];

function madeBy(entry: HistoryEntry): string {
  if (entry.actor) return ` by ${fullName(entry.actor)}`;
  if (entry.systemActor) return ` by ${SYSTEM_ACTORS[entry.systemActor.kind] ?? "the system"} ${entry.systemActor.name}`;
  return "";
}

function History({ entries }: { entries: Facility["history"] }) {
  if (entries === null) return null;
  return (
    <section aria-labelledby="history-h">
      <h2 id="history-h">History</h2>
      {entries.length ? (
        <ol className="history">{entries.map((h) => (
          <li key={h.id}><time dateTime={h.at}>{formatDateTime(h.at)}</time> · <strong>{humanize(h.action.replace(/[._]/g, "_"))}</strong>
            {madeBy(h)}
            {h.changes && typeof h.changes === "object" && Object.keys(h.changes).length
              ? <span className="muted"> — {Object.keys(h.changes as object).join(", ")}</span> : null}</li>
        ))}</ol>
      ) : <Empty><p>No changes recorded yet.</p></Empty>}
    </section>
  );
}

// Live updates of the page: the facility's own changes (permits, due dates, compliance), and
// its elements' submissions and review results (the business's view, or the regulator's).
const FACILITY_CHANGED = gql`
  subscription FacilityChanged($id: ID) { facilityChanged(facilityId: $id) { kind } }`;
const ELEMENTS_CHANGED = gql`
  subscription FacilityElementsChanged($id: ID) { submittalElementChanged(facilityId: $id) { kind } }`;
const QUEUE_CHANGED = gql`
  subscription FacilityQueueChanged($filter: ReviewQueueFilter) { reviewQueueChanged(filter: $filter) { kind } }`;

export function FacilityPage({ id }: { id: string }) {
  const state = useQuery<FacilityData>(FACILITY, { id });
  const [notice, setNotice] = useState<string | null>(null);
  const portal = currentSession()?.portal;
  const changed = (message: string) => { setNotice(message); state.reload(); };
  const business = portal === "business";
  const live = [
    useLive(FACILITY_CHANGED, { id }, state.reload),
    useLive(ELEMENTS_CHANGED, { id }, state.reload, !business),
    useLive(QUEUE_CHANGED, { filter: { facilityId: id } }, state.reload, business),
  ].filter((_, i) => i === 0 || (i === 1) === business);
  return (
    <Page title={state.data?.facility?.name ?? "Facility"} actions={<LiveBadge status={live} />}>
      {notice ? <Success>{notice}</Success> : null}
      <Loaded state={state}>{(data) => {
        const f = data.facility;
        if (!f) return <ErrorNotice error="This facility was not found, or it is not yours to see." />;
        const role = data.me?.memberships?.find((m) => m.organization?.id === f.organization?.id)?.role;
        const canEdit = portal === "business" && atLeast(role, "EDITOR");
        const canSubmit = portal === "business" && atLeast(role, "APPROVER");
        const submitted = (f.submittalElements ?? []).filter((e) => e.status !== "DRAFT");
        const drafts = f.drafts ?? [];
        return (
          <>
            <dl className="facts">
              <div><dt>CERS ID</dt><dd>{f.cersId}</dd></div>
              <div><dt>Compliance</dt><dd><Badge status={f.complianceStatus} /></dd></div>
              <div><dt>Annual due date</dt><dd>{formatDate(f.annualDueDate)}
                <div className="muted">certification opens {formatDate(f.certificationOpensOn)}</div></dd></div>
              <div><dt>Last annual update</dt><dd>{formatDate(f.lastAnnualUpdateAt)}</dd></div>
              <div><dt>Site address</dt><dd>{address(f.siteAddress)}</dd></div>
              <div><dt>County</dt><dd>{f.county}</dd></div>
              <div><dt>Business</dt><dd>{f.organization ? (portal === "business"
                ? <Link to={`/businesses/${f.organization.id}`}>{f.organization.name}</Link> : f.organization.name) : "—"}</dd></div>
              <div><dt>Regulator</dt><dd>{f.regulator ? <>{f.regulator.name}{f.regulator.phone ? ` · ${f.regulator.phone}` : ""}</> : "—"}</dd></div>
            </dl>
            {f.updateRequiredReasons.length ? (
              <div className="notice warning" role="note"><p><strong>Update required:</strong></p><ul>
                {f.updateRequiredReasons.map((r, i) => <li key={i}>{humanize(r.reason)}{r.element ? ` (${ELEMENT_NAMES[r.element] ?? r.element})` : ""} — by {formatDate(r.dueBy)}</li>)}
              </ul></div>
            ) : null}
            {portal === "regulator" ? <RegulatorActions facility={f} onDone={changed} /> : null}
            <section aria-labelledby="elements-h">
              <div className="page-head">
                <h2 id="elements-h">Submittal elements</h2>
                {drafts.length && canSubmit ? <Link className="button" to={`/facilities/${f.id}/submit`}>Submit all drafts ({drafts.length})</Link> : null}
              </div>
              <div className="table-wrap">
                <table className="elements">
                  <thead><tr><th scope="col">Element</th><th scope="col">Last submitted</th><th scope="col">Draft</th></tr></thead>
                  <tbody>{ELEMENT_TYPES.map((type) => (
                    <ElementRow key={type} facility={f} type={type} canEdit={canEdit} onChanged={changed}
                      last={submitted.find((e) => e.element === type)} draft={drafts.find((d) => d.element === type)} />
                  ))}</tbody>
                </table>
              </div>
              {f.submittalElements === null || f.drafts === null
                ? <div className="notice warning" role="note"><p>Submittals cannot be shown right now; try again in a moment.</p></div> : null}
              {canSubmit && f.drafts !== null && drafts.length === 0 ? <NoChange facility={f} onDone={changed} /> : null}
            </section>
            <section aria-labelledby="subs-h">
              <h2 id="subs-h">Submittal history</h2>
              {submitted.length ? (
                <ol className="history">{submitted.map((e) => (
                  <li key={e.id}><Link to={`/elements/${e.id}`}>{ELEMENT_NAMES[e.element]}</Link> <Badge status={e.status} />
                    {" "}<span className="muted">{formatDateTime(e.submittedAt)}{e.submittedBy ? ` by ${fullName(e.submittedBy)}` : ""}
                    {e.noChangeCertification ? " · no-change certification" : ""}
                    {e.changeFromPrevious ? ` · ${humanize(e.changeFromPrevious)}` : ""}</span>
                    {e.review?.comments ? <blockquote>Reviewer: {e.review.comments}</blockquote> : null}</li>
                ))}</ol>
              ) : <Empty><p>Nothing has been submitted for this facility yet.</p></Empty>}
            </section>
            {f.permits.length ? (
              <section aria-labelledby="permits-h">
                <h2 id="permits-h">Permits</h2>
                <ul>{f.permits.map((p) => <li key={p.id}>{p.number} · issued {formatDate(p.issuedAt)} · expires {formatDate(p.expiresAt)}</li>)}</ul>
              </section>
            ) : null}
            <History entries={f.history} />
          </>
        );
      }}</Loaded>
    </Page>
  );
}

export function describeRefusal(error: unknown): string {
  return error instanceof ApiError && error.code === "COMPLIANCE_NOT_CURRENT"
    ? `Refused: ${error.message}` : explain(error);
}
