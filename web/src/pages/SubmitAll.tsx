import { useState } from "react";
import { gql, type UserError } from "../api";
import { Link } from "../router";
import { Badge, ELEMENT_NAMES, Empty, ErrorNotice, humanize, Loaded, Page, Success, UserErrors, useMutation, useQuery } from "../ui";

const DRAFTS = gql`
  query DraftsToSubmit($id: ID!) {
    facility(id: $id) {
      id name cersId complianceStatus
      drafts { id element basedOn updatedAt validation { field message code severity } }
    }
  }`;
const SUBMIT = gql`
  mutation SubmitDrafts($input: FacilityIdInput!) {
    submitDrafts(input: $input) { elements { id element status changeFromPrevious } userErrors { field message code severity } }
  }`;

interface Draft { id: string; element: string; basedOn: string; updatedAt: string; validation: UserError[] }
interface Submitted { id: string; element: string; status: string; changeFromPrevious: string | null }

export function SubmitAll({ id }: { id: string }) {
  const state = useQuery<{ facility: { id: string; name: string; cersId: number; complianceStatus: string; drafts: Draft[] | null } | null }>(DRAFTS, { id });
  const submit = useMutation<{ submitDrafts: { elements: Submitted[]; userErrors: UserError[] } }>(SUBMIT);
  const [errors, setErrors] = useState<UserError[] | null>(null);
  const [done, setDone] = useState<Submitted[] | null>(null);
  const run = async () => {
    const data = await submit.run({ input: { facilityId: id } });
    if (!data) return;
    setErrors(data.submitDrafts.userErrors);
    if (data.submitDrafts.elements.length && !data.submitDrafts.userErrors.some((e) => e.severity === "ERROR")) setDone(data.submitDrafts.elements);
  };
  if (done) {
    return (
      <Page title="Submitted">
        <Success>{done.length} element{done.length > 1 ? "s were" : " was"} submitted to the regulator.</Success>
        <ul>{done.map((e) => <li key={e.id}><Link to={`/elements/${e.id}`}>{ELEMENT_NAMES[e.element]}</Link> <Badge status={e.status} />
          {e.changeFromPrevious ? ` · ${humanize(e.changeFromPrevious)}` : ""}</li>)}</ul>
        <p><Link to={`/facilities/${id}`}>Back to the facility</Link></p>
      </Page>
    );
  }
  return (
    <Page title="Submit all drafts">
      <Loaded state={state}>{(data) => {
        const f = data.facility;
        if (!f) return <ErrorNotice error="This facility was not found, or it is not yours to see." />;
        if (!f.drafts) return <ErrorNotice error="Drafts cannot be loaded right now; try again in a moment." />;
        const drafts = f.drafts;
        if (!drafts.length) return <Empty><p>There are no drafts to submit. <Link to={`/facilities/${id}`}>Start one on the facility page</Link>.</p></Empty>;
        const blocking = drafts.reduce((n, d) => n + d.validation.filter((v) => v.severity === "ERROR").length, 0);
        return (
          <>
            <p>You are about to submit <strong>{drafts.length} element{drafts.length > 1 ? "s" : ""}</strong> for <strong>{f.name}</strong> (CERS ID {f.cersId})
              to the regulator, all together. Submitted elements cannot be changed; a correction is a new draft.</p>
            <div className="table-wrap"><table>
              <thead><tr><th scope="col">Element</th><th scope="col">Based on</th><th scope="col">Errors</th><th scope="col">Warnings</th></tr></thead>
              <tbody>{drafts.map((d) => {
                const errs = d.validation.filter((v) => v.severity === "ERROR");
                const warns = d.validation.filter((v) => v.severity === "WARNING");
                return (
                  <tr key={d.id}>
                    <th scope="row"><Link to={`/elements/${d.id}`}>{ELEMENT_NAMES[d.element]}</Link></th>
                    <td data-label="Based on">{d.basedOn === "BLANK" ? "Started blank" : "Copy of the last submittal"}</td>
                    <td data-label="Errors">{errs.length ? <span className="badge badge-overdue">{errs.length}</span> : "None"}</td>
                    <td data-label="Warnings">{warns.length || "None"}</td>
                  </tr>
                );
              })}</tbody>
            </table></div>
            {blocking ? <ErrorNotice error={`${blocking} error${blocking > 1 ? "s" : ""} must be fixed before submitting. Open each element to fix them.`} /> : null}
            {submit.error ? <ErrorNotice error={submit.error} /> : null}
            <UserErrors errors={errors} />
            <div className="row">
              <button type="button" onClick={() => void run()} disabled={submit.busy || blocking > 0}>
                {submit.busy ? "Submitting…" : `Submit all ${drafts.length} drafts`}</button>
              <Link to={`/facilities/${id}`}>Cancel</Link>
            </div>
          </>
        );
      }}</Loaded>
    </Page>
  );
}
