import { useState, type FormEvent } from "react";
import { gql } from "../api";
import { Link, navigate, useLocation, withQuery } from "../router";
import { Badge, ELEMENT_NAMES, ELEMENT_TYPES, Empty, formatDateTime, humanize, LiveBadge, Loaded, Page, useLive, useQuery } from "../ui";
import { FacilityTable } from "./Businesses";

const QUEUE = gql`
  query ReviewQueue($filter: ReviewQueueFilter, $after: String) {
    reviewQueue(filter: $filter, first: 25, after: $after) {
      pageInfo { hasNextPage endCursor }
      edges { node { id element status submittedAt changeFromPrevious facility { id name cersId county } } }
    }
  }`;
// Any change in the queue's scope (new submissions, reviews) reloads the page's rows.
const QUEUE_CHANGED = gql`
  subscription ReviewQueueChanged($filter: ReviewQueueFilter) {
    reviewQueueChanged(filter: $filter) { kind element { id } }
  }`;
const AGENCIES = gql`query MyAgencyChoices { myAgencies { id name counties } }`;
const SEARCH = gql`
  query SearchFacilities($filter: FacilityFilter, $after: String) {
    facilities(filter: $filter, first: 25, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id cersId name city county complianceStatus annualDueDate siteAddress { street city zip } } }
    }
  }`;

const STATUSES = ["SUBMITTED", "UNDER_REVIEW", "ACCEPTED", "NOT_ACCEPTED"];

interface QueueItem { id: string; element: string; status: string; submittedAt: string | null; changeFromPrevious: string | null;
  // Null when the facility service cannot answer; the rest of the row still shows.
  facility: { id: string; name: string; cersId: number; county: string } | null }

function Select({ id, label, value, options, onChange }: { id: string; label: string; value: string; options: [string, string][]; onChange: (v: string) => void }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        {options.map(([v, text]) => <option key={v} value={v}>{text}</option>)}
      </select>
    </div>
  );
}

export function ReviewQueue() {
  const { query } = useLocation();
  const element = query.get("element") ?? "";
  const status = query.get("status") ?? "";
  const agency = query.get("agency") ?? "";
  const after = query.get("after");
  const agencies = useQuery<{ myAgencies: { id: string; name: string; counties: string[] }[] }>(AGENCIES);
  const mine = agencies.data?.myAgencies ?? [];
  const filter = { element: element || null, status: status ? [status] : ["SUBMITTED", "UNDER_REVIEW"], agencyId: agency || null };
  const state = useQuery<{ reviewQueue: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: QueueItem }[] } }>(QUEUE, { filter, after });
  const live = useLive(QUEUE_CHANGED, { filter: { element: element || null, agencyId: agency || null } }, state.reload);
  const go = (patch: Record<string, string>) => navigate(withQuery("/review", { element, status, agency, ...patch }));
  return (
    <Page title="Review queue" actions={<LiveBadge status={live} />}>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter the queue">
        <Select id="q-element" label="Element" value={element} onChange={(v) => go({ element: v })}
          options={[["", "All elements"], ...ELEMENT_TYPES.map((t): [string, string] => [t, ELEMENT_NAMES[t]])]} />
        <Select id="q-status" label="Status" value={status} onChange={(v) => go({ status: v })}
          options={[["", "Waiting for review"], ...STATUSES.map((s): [string, string] => [s, humanize(s)])]} />
        <Select id="q-agency" label="Jurisdiction (county)" value={agency} onChange={(v) => go({ agency: v })}
          options={[["", "All my jurisdictions"], ...mine.map((a): [string, string] => [a.id, `${a.counties.join(", ")} — ${a.name}`])]} />
      </form>
      <Loaded state={state}>{(data) => {
        const items = data.reviewQueue.edges.map((e) => e.node);
        if (!items.length) return <Empty><p>Nothing is waiting here. Change the filters to see reviewed submittals.</p></Empty>;
        return (
          <>
            <div className="table-wrap"><table>
              <thead><tr><th scope="col">Submitted</th><th scope="col">Facility</th><th scope="col">County</th><th scope="col">Element</th><th scope="col">Change</th><th scope="col">Status</th></tr></thead>
              <tbody>{items.map((i) => (
                <tr key={i.id}>
                  <td data-label="Submitted">{formatDateTime(i.submittedAt)}</td>
                  <td data-label="Facility">{i.facility
                    ? <><Link to={`/facilities/${i.facility.id}`}>{i.facility.name}</Link><div className="muted">CERS ID {i.facility.cersId}</div></>
                    : <span className="muted">Facility details unavailable</span>}</td>
                  <td data-label="County">{i.facility?.county ?? "—"}</td>
                  <td data-label="Element"><Link to={`/elements/${i.id}`}>{ELEMENT_NAMES[i.element]}</Link></td>
                  <td data-label="Change">{i.changeFromPrevious ? humanize(i.changeFromPrevious) : "—"}</td>
                  <td data-label="Status"><Badge status={i.status} /></td>
                </tr>
              ))}</tbody>
            </table></div>
            <div className="pager">
              {after ? <Link to={withQuery("/review", { element, status, agency })}>First page</Link> : null}
              {data.reviewQueue.pageInfo.hasNextPage && data.reviewQueue.pageInfo.endCursor
                ? <Link to={withQuery("/review", { element, status, agency, after: data.reviewQueue.pageInfo.endCursor })}>Next page</Link> : null}
            </div>
          </>
        );
      }}</Loaded>
    </Page>
  );
}

export function Search() {
  const { query } = useLocation();
  const params = { name: query.get("name") ?? "", cersId: query.get("cersId") ?? "", county: query.get("county") ?? "", status: query.get("status") ?? "" };
  const after = query.get("after");
  const [form, setForm] = useState(params);
  const filter = {
    nameContains: params.name || null, cersId: /^\d+$/.test(params.cersId) ? Number(params.cersId) : null,
    county: params.county || null, complianceStatus: params.status || null,
  };
  const state = useQuery<{ facilities: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: Parameters<typeof FacilityTable>[0]["rows"][number] }[] } }>(SEARCH, { filter, after });
  const submit = (event: FormEvent) => { event.preventDefault(); navigate(withQuery("/search", form)); };
  return (
    <Page title="Facilities">
      <form className="filters" onSubmit={submit} role="search" aria-label="Search facilities">
        <div className="field"><label htmlFor="s-name">Name contains</label>
          <input id="s-name" type="search" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} /></div>
        <div className="field"><label htmlFor="s-cers">CERS ID</label>
          <input id="s-cers" inputMode="numeric" value={form.cersId} onChange={(e) => setForm({ ...form, cersId: e.target.value })} /></div>
        <div className="field"><label htmlFor="s-county">County</label>
          <input id="s-county" value={form.county} onChange={(e) => setForm({ ...form, county: e.target.value })} /></div>
        <Select id="s-status" label="Compliance" value={form.status} onChange={(v) => setForm({ ...form, status: v })}
          options={[["", "Any"], ...["CURRENT", "DUE_SOON", "OVERDUE", "UPDATE_REQUIRED"].map((s): [string, string] => [s, humanize(s)])]} />
        <button type="submit">Search</button>
      </form>
      <Loaded state={state}>{(data) => {
        const rows = data.facilities.edges.map((e) => e.node);
        return (
          <>
            <p className="muted" aria-live="polite">{data.facilities.totalCount} facilit{data.facilities.totalCount === 1 ? "y" : "ies"} match.</p>
            {rows.length ? <FacilityTable rows={rows} /> : <Empty><p>No facility matches. Try fewer filters.</p></Empty>}
            <div className="pager">
              {after ? <Link to={withQuery("/search", params)}>First page</Link> : null}
              {data.facilities.pageInfo.hasNextPage && data.facilities.pageInfo.endCursor
                ? <Link to={withQuery("/search", { ...params, after: data.facilities.pageInfo.endCursor })}>Next page</Link> : null}
            </div>
          </>
        );
      }}</Loaded>
    </Page>
  );
}
