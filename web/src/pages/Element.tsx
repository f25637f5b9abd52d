import { useCallback, useEffect, useState, type FormEvent } from "react";
import { gql, type UserError } from "../api";
import { currentSession } from "../auth";
import { Link } from "../router";
import {
  Badge, ELEMENT_NAMES, ErrorNotice, formatDateTime, fullName, humanize, Loaded, Page, Success, UserErrors,
  useMutation, useQuery,
} from "../ui";
import { ElementView, Fields, useElementForm, type Data, type Difference, type FormSpec } from "./form";
import { InventoryTable, type Material } from "./inventory";
import { SlotEditor, type Slot } from "./slots";

const ELEMENT = gql`
  query ElementPage($id: ID!) {
    submittalElement(id: $id) {
      id element status createdAt updatedAt submittedAt basedOn basedOnElementId changeFromPrevious
      noChangeCertification certificationStatement data legacyData
      previousSubmittal { id submittedAt }
      differences(first: 2000) { path label kind before after significant }
      facility { id name cersId }
      createdBy { firstName lastName }
      submittedBy { firstName lastName }
      review { action comments reviewedAt reviewer { firstName lastName } }
      validation { field message code severity }
    }
  }`;
const SAVE = gql`
  mutation SaveDraft($input: SaveDraftInput!) {
    saveDraft(input: $input) {
      element { id updatedAt data validation { field message code severity } differences(first: 2000) { path label kind before after significant } }
      userErrors { field message code severity } findings { field message code severity }
    }
  }`;
const DISCARD = gql`
  mutation DiscardDraft($input: ElementIdInput!) { discardDraft(input: $input) { id userErrors { field message code severity } } }`;
const IMPORT = gql`
  mutation ImportHazardousMaterials($input: ImportHazardousMaterialsInput!) {
    importHazardousMaterials(input: $input) { importedCount element { id data validation { field message code severity } } userErrors { field message code severity } }
  }`;
const REVIEW = gql`
  mutation ReviewElement($input: ReviewSubmittalElementInput!) {
    reviewSubmittalElement(input: $input) { element { id status review { action comments reviewedAt } } userErrors { field message code severity } }
  }`;

/** The element types drawn from their form description, and the SaveDraftInput field of each. */
const TYPED: Record<string, string> = {
  UST: "ust", TIERED_PERMITTING: "tieredPermitting", RECYCLABLE_MATERIALS_REPORT: "recyclableMaterialsReport",
  REMOTE_WASTE_CONSOLIDATION: "remoteWasteConsolidation", HAZARDOUS_WASTE_TANK_CLOSURE: "hazardousWasteTankClosure",
  APSA: "apsa", CALARP: "calArp",
};
interface Element {
  id: string; element: string; status: string; createdAt: string; updatedAt: string; submittedAt: string | null;
  basedOn: string; basedOnElementId: string | null; changeFromPrevious: string | null; noChangeCertification: boolean;
  certificationStatement: string | null; data: Data; legacyData: unknown; facility: { id: string; name: string; cersId: number };
  previousSubmittal: { id: string; submittedAt: string | null } | null; differences: Difference[];
  createdBy: { firstName: string; lastName: string } | null; submittedBy: { firstName: string; lastName: string } | null;
  review: { action: string; comments: string | null; reviewedAt: string; reviewer: { firstName: string; lastName: string } | null } | null;
  validation: UserError[];
}
type Saved = {
  element: { id: string; updatedAt: string; data: Data; validation: UserError[]; differences: Difference[] } | null;
  userErrors: UserError[]; findings: UserError[];
};

const get = (data: Data, path: string[]): unknown => path.reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Data)[k] : undefined), data);
function set(data: Data, path: string[], value: unknown): Data {
  const [head, ...rest] = path;
  const child = (data[head] && typeof data[head] === "object" ? data[head] : {}) as Data;
  return { ...data, [head]: rest.length ? set(child, rest, value) : value };
}
const errorsAt = (errors: UserError[], path: string[]) => errors
  .filter((e) => { const f = (e.field ?? []).filter((p) => !(p in ELEMENT_NAMES)); return path.every((p, i) => f[i] === p) && f.length === path.length; })
  .map((e) => e.message);

const QUESTIONS: [string, string][] = [
  ["hazardousMaterialsOnSite", "Hazardous materials on site at or above reportable quantities?"],
  ["calArpRegulatedSubstances", "CalARP regulated substances above threshold quantities?"],
  ["ownOrOperateUst", "Own or operate underground storage tanks (USTs)?"],
  ["ownOrOperateApst", "Own or operate aboveground petroleum storage (APSA)?"],
  ["hazardousWasteGenerator", "Generate hazardous waste?"],
  ["recyclesMaterials", "Recycle more than 100 kg/month of excluded or exempted recyclable materials?"],
  ["onsiteHazardousWasteTreatment", "Treat hazardous waste on site?"],
  ["financialAssurance", "Subject to financial assurance for tiered permitting?"],
  ["remoteWasteConsolidation", "Consolidate hazardous waste from remote sites?"],
  ["hazardousWasteTankClosure", "Need to report closure of a hazardous waste tank?"],
  ["rcraLargeQuantityGenerator", "RCRA large quantity generator?"],
  ["householdHazardousWasteCollection", "Household hazardous waste collection facility?"],
];
const FI_FIELDS: [string, string][] = [
  ["businessActivities.businessName", "Business name"], ["businessActivities.epaId", "EPA ID number"],
  ["ownerOperator.phone", "Business phone"], ["ownerOperator.naicsCode", "NAICS code"],
  ["ownerOperator.ownerName", "Owner name"], ["ownerOperator.ownerPhone", "Owner phone"],
  ["ownerOperator.ownerAddress.street", "Owner street"], ["ownerOperator.ownerAddress.city", "Owner city"],
  ["ownerOperator.operatorName", "Operator name"], ["ownerOperator.operatorPhone", "Operator phone"],
  ["ownerOperator.mailingAddress.street", "Mailing street"], ["ownerOperator.mailingAddress.city", "Mailing city"],
  ["ownerOperator.environmentalContact.name", "Environmental contact name"], ["ownerOperator.environmentalContact.phone", "Environmental contact phone"],
  ["ownerOperator.environmentalContact.address.street", "Environmental contact street"], ["ownerOperator.environmentalContact.address.city", "Environmental contact city"],
  ["ownerOperator.primaryEmergencyContact.name", "Primary emergency contact name"], ["ownerOperator.primaryEmergencyContact.title", "Primary emergency contact title"],
  ["ownerOperator.primaryEmergencyContact.phone", "Primary emergency contact phone"], ["ownerOperator.primaryEmergencyContact.phone24Hour", "Primary emergency 24-hour phone"],
  ["ownerOperator.billingContact.name", "Billing contact name"], ["ownerOperator.billingContact.phone", "Billing contact phone"],
  ["ownerOperator.billingContact.address.street", "Billing street"], ["ownerOperator.billingContact.address.city", "Billing city"],
  ["ownerOperator.signer.name", "Signer name"], ["ownerOperator.signer.title", "Signer title"],
];

function FacilityInformation({ data, onChange, readOnly, errors }: { data: Data; onChange: (d: Data) => void; readOnly: boolean; errors: UserError[] }) {
  return (
    <div className="grid two">
      <fieldset>
        <legend>Business activities</legend>
        {QUESTIONS.map(([key, text]) => {
          const path = ["businessActivities", key];
          const value = get(data, path);
          const problems = errorsAt(errors, path);
          return (
            <div className="field inline" key={key}>
              <label htmlFor={`ba-${key}`}>{text}</label>
              <select id={`ba-${key}`} disabled={readOnly} value={value === true ? "Y" : value === false ? "N" : ""}
                aria-invalid={problems.length ? true : undefined}
                onChange={(e) => onChange(set(data, path, e.target.value === "Y" ? true : e.target.value === "N" ? false : null))}>
                <option value="">—</option><option value="Y">Yes</option><option value="N">No</option>
              </select>
              {problems.length ? <span className="field-error">{problems.join(" ")}</span> : null}
            </div>
          );
        })}
      </fieldset>
      <fieldset>
        <legend>Owner / operator identification</legend>
        {FI_FIELDS.map(([dotted, label]) => {
          const path = dotted.split(".");
          const problems = errorsAt(errors, path);
          const id = `fi-${dotted.replace(/\./g, "-")}`;
          return (
            <div className="field" key={dotted}>
              <label htmlFor={id}>{label}</label>
              <input id={id} readOnly={readOnly} value={String(get(data, path) ?? "")} aria-invalid={problems.length ? true : undefined}
                aria-describedby={problems.length ? `${id}-e` : undefined}
                onChange={(e) => onChange(set(data, path, e.target.value || null))} />
              {problems.length ? <p className="field-error" id={`${id}-e`}>{problems.join(" ")}</p> : null}
            </div>
          );
        })}
      </fieldset>
    </div>
  );
}

const PLAN_SLOTS: [string, string][] = [
  ["emergencyResponsePlan", "Emergency response plan"], ["employeeTrainingPlan", "Employee training plan"],
  ["ownerStatementOfCompliance", "Owner statement of compliance (optional)"], ["locallyRequired", "Locally required document (optional)"],
];

function CsvImport({ elementId, onImported }: { elementId: string; onImported: (data: Data, validation: UserError[], count: number) => void }) {
  const [mode, setMode] = useState("REPLACE");
  const [errors, setErrors] = useState<UserError[] | null>(null);
  const run = useMutation<{ importHazardousMaterials: { importedCount: number; element: { data: Data; validation: UserError[] } | null; userErrors: UserError[] } }>(IMPORT);
  const submit = async (file: File | undefined) => {
    if (!file) return;
    const data = await run.run({ input: { id: elementId, csv: await file.text(), mode } });
    if (!data) return;
    const result = data.importHazardousMaterials;
    setErrors(result.userErrors);
    if (result.element) onImported(result.element.data, result.element.validation, result.importedCount);
  };
  const rows = (errors ?? []).filter((e) => e.field?.[0] === "rows");
  return (
    <details className="card">
      <summary>Import materials from a CSV file</summary>
      <p>Use the <a href="/documents/templates/hmi.csv">inventory CSV template</a>. If any row has an error, nothing is imported.</p>
      <div className="row">
        <div className="field"><label htmlFor="csv-mode">Import mode</label>
          <select id="csv-mode" value={mode} onChange={(e) => setMode(e.target.value)}>
            <option value="REPLACE">Replace the inventory</option><option value="APPEND">Add to the inventory</option>
          </select></div>
        <div className="field"><label htmlFor="csv-file">CSV file</label>
          <input id="csv-file" type="file" accept=".csv,text/csv" disabled={run.busy} onChange={(e) => { void submit(e.target.files?.[0]); e.target.value = ""; }} /></div>
      </div>
      {run.error ? <ErrorNotice error={run.error} /> : null}
      {rows.length ? (
        <div className="notice error" role="alert">
          <p>The file was not imported. Fix these rows and try again:</p>
          <table><thead><tr><th scope="col">Line</th><th scope="col">Column</th><th scope="col">Problem</th></tr></thead>
            <tbody>{rows.map((e, i) => <tr key={i}><td>{e.field?.[1]}</td><td>{e.field?.[2]}</td><td>{e.message}</td></tr>)}</tbody></table>
        </div>
      ) : <UserErrors errors={errors} />}
    </details>
  );
}

function Review({ element, onDone }: { element: Element; onDone: (m: string) => void }) {
  const [action, setAction] = useState("ACCEPT");
  const [comments, setComments] = useState(element.review?.comments ?? "");
  const [errors, setErrors] = useState<UserError[] | null>(null);
  const review = useMutation<{ reviewSubmittalElement: { element: unknown; userErrors: UserError[] } }>(REVIEW);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const data = await review.run({ input: { id: element.id, action, comments: comments || null } });
    if (!data) return;
    setErrors(data.reviewSubmittalElement.userErrors);
    if (!data.reviewSubmittalElement.userErrors.length) onDone(`Review saved: ${humanize(action)}.`);
  };
  return (
    <form className="card form" onSubmit={submit} aria-labelledby="review-h">
      <h2 id="review-h">Review</h2>
      {review.error ? <ErrorNotice error={review.error} /> : null}
      <UserErrors errors={errors} />
      <fieldset>
        <legend>Decision</legend>
        {[["UNDER_REVIEW", "Under review"], ["ACCEPT", "Accept"], ["NOT_ACCEPT", "Not accept"]].map(([value, text]) => (
          <label key={value} className="radio"><input type="radio" name="action" value={value} checked={action === value} onChange={() => setAction(value)} /> {text}</label>
        ))}
      </fieldset>
      <div className="field">
        <label htmlFor="review-comments">Comments to the business</label>
        <textarea id="review-comments" value={comments} maxLength={1500} rows={4} aria-describedby="review-count"
          onChange={(e) => setComments(e.target.value)} />
        <p className="hint" id="review-count">{comments.length} / 1,500 characters</p>
      </div>
      <button type="submit" disabled={review.busy}>Save review</button>
    </form>
  );
}

function Comparison({ element }: { element: Element }) {
  const previous = element.previousSubmittal;
  if (!previous) {
    return <p className="muted">{element.status === "DRAFT"
      ? `Started ${element.basedOn === "BLANK" ? "blank" : "from the last submittal"}; nothing submitted before to compare with.`
      : "The first submission of this element: nothing before it to compare with."}</p>;
  }
  const materials = element.differences.filter((d) => d.path[0] === "materials" && d.path.length === 2);
  const changed = new Set(element.differences.filter((d) => d.path[0] === "materials" && d.path.length > 2).map((d) => d.path[1]));
  const names = (list: Difference[]) => list.slice(0, 10).map((d) => d.label.replace(/^Materials? /, "")).join(", ");
  const added = materials.filter((d) => d.kind === "ADDED");
  const removed = materials.filter((d) => d.kind === "REMOVED");
  return (
    <div className="card no-print-break">
      <p>Compared with the <Link to={`/elements/${previous.id}`}>submittal of {formatDateTime(previous.submittedAt)}</Link>
        {element.changeFromPrevious ? <>: <strong>{humanize(element.changeFromPrevious)}</strong></> : null}.</p>
      {element.element === "HAZARDOUS_MATERIALS_INVENTORY" ? (
        <ul>
          <li>{added.length} new material{added.length === 1 ? "" : "s"}{added.length ? `: ${names(added)}` : ""}</li>
          <li>{removed.length} removed{removed.length ? `: ${names(removed)}` : ""}</li>
          <li>{changed.size} with changed answers</li>
        </ul>
      ) : null}
    </div>
  );
}

/** An element drawn from its form description: the form while a draft is edited, the
 * readable view (with differences marked) otherwise and on paper. */
function DescribedElement({ element, data, editable, findings, differences, onChange }: {
  element: Element; data: Data; editable: boolean; findings: UserError[]; differences: Difference[];
  onChange: (d: Data) => void;
}) {
  const form = useElementForm(element.element);
  const compared = element.previousSubmittal ? `the submittal of ${formatDateTime(element.previousSubmittal.submittedAt)}` : null;
  return (
    <Loaded state={form}>{({ elementForm }: { elementForm: FormSpec }) => (
      <>
        {editable ? (
          <div className="no-print">
            <p className="hint"><span aria-hidden="true">*</span> marks what a submission needs. Save as often as you like; a draft may be incomplete.</p>
            <Fields fields={elementForm.fields} value={data} path={[]} context={[]} errors={findings} readOnly={false}
              facilityId={element.facility.id} onChange={onChange} />
          </div>
        ) : null}
        <div className={editable ? "print-only" : undefined}>
          <ElementView spec={elementForm} data={data} differences={compared && element.status !== "NOT_APPLICABLE" ? differences : null}
            comparedWith={compared} />
        </div>
      </>
    )}</Loaded>
  );
}

function Editor({ element }: { element: Element }) {
  const portal = currentSession()?.portal;
  const editable = element.status === "DRAFT" && portal === "business";
  const [data, setData] = useState<Data>(element.data);
  const [dirty, setDirty] = useState(false);
  const [findings, setFindings] = useState<UserError[]>(element.validation);
  const [differences, setDifferences] = useState<Difference[]>(element.differences);
  const [notice, setNotice] = useState<string | null>(null);
  const save = useMutation<{ saveDraft: Saved }>(SAVE);
  const discard = useMutation<{ discardDraft: { id: string | null; userErrors: UserError[] } }>(DISCARD);
  const [refused, setRefused] = useState<UserError[] | null>(null);
  const change = useCallback((next: Data) => { setData(next); setDirty(true); setNotice(null); }, []);
  const changeMaterials = useCallback((materials: Material[]) => {
    setData((d) => ({ ...d, materials })); setDirty(true); setNotice(null);
  }, []);
  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => { e.preventDefault(); };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);
  const type = element.element;
  const typedKey = TYPED[type];
  const submitSave = async (event: FormEvent) => {
    event.preventDefault();
    setRefused(null);
    // The typed elements go through their typed input, so GraphQL itself checks their shape.
    const input = typedKey ? { id: element.id, [typedKey]: data } : { id: element.id, data };
    const result = await save.run({ input });
    if (!result) return; // the form keeps everything typed; save.error says what happened
    const saved = result.saveDraft;
    if (saved.element) {
      setData(saved.element.data);
      setFindings(saved.findings);
      setDifferences(saved.element.differences);
      setDirty(false);
      const errors = saved.findings.filter((v) => v.severity === "ERROR").length;
      setNotice(errors ? `Draft saved. ${errors} problem${errors > 1 ? "s" : ""} must be fixed before it can be submitted.` : "Draft saved. It is ready to submit.");
    } else {
      setRefused(saved.userErrors);
    }
  };
  const drop = async () => {
    if (!window.confirm("Discard this draft? What it holds is lost.")) return;
    const result = await discard.run({ input: { id: element.id } });
    if (result?.discardDraft.id) window.history.back();
  };
  const readable = typedKey || (!editable && ["FACILITY_INFORMATION", "EMERGENCY_RESPONSE_TRAINING_PLANS"].includes(type));
  return (
    <form onSubmit={submitSave} className="editor" noValidate>
      {notice ? <Success>{notice}</Success> : null}
      {save.error ? <ErrorNotice error={`${save.error} Your changes are still here; save again when ready.`} /> : null}
      <UserErrors errors={refused} />
      {findings.length && !refused && element.status === "DRAFT" ? (
        <details className="card no-print" open={findings.length < 8}>
          <summary>{findings.filter((f) => f.severity === "ERROR").length} errors, {findings.filter((f) => f.severity === "WARNING").length} warnings</summary>
          <UserErrors errors={findings} />
        </details>
      ) : null}
      {element.legacyData ? (
        <details className="card">
          <summary>Kept from the earlier version of this element</summary>
          <p>The upgrade to typed fields could not place these answers in a field. They are kept here; copy what still applies into the form.</p>
          <pre className="mono legacy">{JSON.stringify(element.legacyData, null, 2)}</pre>
        </details>
      ) : null}
      {readable ? <DescribedElement element={element} data={data} editable={editable && !!typedKey} findings={findings}
        differences={differences} onChange={change} /> : null}
      {type === "FACILITY_INFORMATION" && editable ? <FacilityInformation data={data} onChange={change} readOnly={!editable} errors={findings} /> : null}
      {type === "HAZARDOUS_MATERIALS_INVENTORY" ? (
        <>
          {editable ? <CsvImport elementId={element.id} onImported={(next, validation, count) => {
            setData(next); setFindings(validation); setDirty(false); setNotice(`${count} materials imported and saved to the draft.`);
          }} /> : null}
          <InventoryTable materials={(data.materials as Material[] | undefined) ?? []} onChange={changeMaterials} readOnly={!editable} serverErrors={findings} />
          <SlotEditor id="siteMap" label="Site map" slot={data.siteMap as Slot | null} facilityId={element.facility.id} readOnly={!editable}
            errors={errorsAt(findings, ["siteMap"])} onChange={(slot) => change({ ...data, siteMap: slot })} />
        </>
      ) : null}
      {type === "EMERGENCY_RESPONSE_TRAINING_PLANS" && editable ? PLAN_SLOTS.map(([key, label]) => (
        <SlotEditor key={key} id={key} label={label} slot={data[key] as Slot | null} facilityId={element.facility.id} readOnly={!editable}
          errors={errorsAt(findings, [key])} onChange={(slot) => change({ ...data, [key]: slot })} />
      )) : null}
      {editable ? (
        <div className="sticky-actions no-print">
          <button type="submit" disabled={save.busy}>{save.busy ? "Saving…" : "Save draft"}</button>
          <span className="muted" aria-live="polite">{dirty ? "Unsaved changes" : "All changes saved"}</span>
          <Link to={`/facilities/${element.facility.id}`}>Back to the facility</Link>
          <button type="button" className="link danger" onClick={() => void drop()}>Discard draft</button>
        </div>
      ) : null}
    </form>
  );
}

export function ElementPage({ id }: { id: string }) {
  const state = useQuery<{ submittalElement: Element | null }>(ELEMENT, { id });
  useEffect(() => {
    // Paper shows everything: folded sections open for printing.
    const unfold = () => document.querySelectorAll("details").forEach((d) => { d.open = true; });
    window.addEventListener("beforeprint", unfold);
    return () => window.removeEventListener("beforeprint", unfold);
  }, []);
  const [notice, setNotice] = useState<string | null>(null);
  const portal = currentSession()?.portal;
  const element = state.data?.submittalElement;
  const title = element?.facility ? `${ELEMENT_NAMES[element.element]} · ${element.facility.name}` : "Submittal element";
  return (
    <Page title={title} actions={element ? <button type="button" className="secondary no-print" onClick={() => window.print()}>Print or save as PDF</button> : undefined}>
      {notice ? <Success>{notice}</Success> : null}
      <Loaded state={state}>{(data) => {
        const e = data.submittalElement;
        if (!e) return <ErrorNotice error="This submittal element was not found, or it is not yours to see." />;
        // The facility's fields come from the facility service; without them the page cannot
        // offer uploads or links, so it says so rather than show half a form.
        if (!e.facility) return <ErrorNotice error="The facility service is not answering right now, so this element cannot be shown. Try again in a minute." />;
        return (
          <>
            <p className="crumbs no-print"><Link to={`/facilities/${e.facility.id}`}>{e.facility.name} (CERS ID {e.facility.cersId})</Link></p>
            <p className="print-only">{e.facility.name} · CERS ID {e.facility.cersId}</p>
            <dl className="facts">
              <div><dt>Status</dt><dd><Badge status={e.status} /></dd></div>
              <div><dt>{e.submittedAt ? "Submitted" : "Started"}</dt><dd>{formatDateTime(e.submittedAt ?? e.createdAt)}{" "}
                {e.submittedBy ?? e.createdBy ? `by ${fullName(e.submittedBy ?? e.createdBy)}` : ""}</dd></div>
              {e.changeFromPrevious ? <div><dt>Change from previous</dt><dd>{humanize(e.changeFromPrevious)}</dd></div> : null}
              {e.noChangeCertification ? <div><dt>Certification</dt><dd>No change in HMBP</dd></div> : null}
            </dl>
            {e.review ? (
              <div className={`notice ${e.review.action === "NOT_ACCEPT" ? "error" : "info"}`} role="note">
                <p><strong>Reviewer{e.review.reviewer ? ` ${fullName(e.review.reviewer)}` : ""}:</strong> {humanize(e.review.action)} on {formatDateTime(e.review.reviewedAt)}</p>
                {e.review.comments ? <blockquote>{e.review.comments}</blockquote> : null}
              </div>
            ) : null}
            <Comparison element={e} />
            {portal === "regulator" && e.status !== "DRAFT" ? <div className="no-print"><Review element={e} onDone={(m) => { setNotice(m); state.reload(); }} /></div> : null}
            <Editor key={e.id + e.status} element={e} />
          </>
        );
      }}</Loaded>
    </Page>
  );
}
