import { useState } from "react";
import { gql, type UserError } from "../api";
import { currentSession, signIn, signOut } from "../auth";
import { Link, useLocation } from "../router";
import { Empty, ErrorNotice, Loaded, Page, Success, useMutation, useQuery } from "../ui";

const ACCEPTING_USER = gql`
  query AcceptingUser { me { id username email firstName lastName } }`;

const ACCEPT_INVITATION = gql`
  mutation AcceptInvitation($input: AcceptInvitationInput!) {
    acceptInvitation(input: $input) {
      membership { role organization { id name orgCode } }
      userErrors { field message code severity }
    }
  }`;

const MY_MEMBERSHIPS = gql`
  query InvitationMemberships { me { id memberships { role organization { id name orgCode } } } }`;

interface Business { id: string; name: string; orgCode: number }
interface Grant { role: string; organization: Business | null }
interface AcceptResult { acceptInvitation: { membership: Grant | null; userErrors: UserError[] } }

const level = (role: string): string => role.replace("_", " ").toLowerCase();

/** Where the user goes from here: the businesses this account already belongs to. */
function YourBusinesses() {
  const state = useQuery<{ me: { memberships: Grant[] | null } | null }>(MY_MEMBERSHIPS);
  return (
    <section aria-labelledby="yours-h">
      <h2 id="yours-h">Your businesses</h2>
      <Loaded state={state}>{(data) => {
        const grants = (data.me?.memberships ?? []).filter((g) => g.organization);
        if (!grants.length) {
          return <Empty><p>This account does not belong to a business yet.</p>
            <p>Ask the business's lead user to send the invitation again, or{" "}
              <Link to="/request-access">request access by a facility's CERS ID</Link>.</p></Empty>;
        }
        return (
          <ul className="cards">
            {grants.map((g) => g.organization && (
              <li key={g.organization.id} className="card">
                <h3><Link to={`/businesses/${g.organization.id}`}>{g.organization.name}</Link></h3>
                <p>Org code {g.organization.orgCode} · your level: {level(g.role)}</p>
              </li>
            ))}
          </ul>
        );
      }}</Loaded>
    </section>
  );
}

/** The server tells expired links apart; used, cancelled and mistyped ones share one answer. */
function Refused({ errors }: { errors: UserError[] }) {
  const expired = errors.some((e) => /expired/i.test(e.message));
  return (
    <>
      <div className="notice error" role="alert">
        <p><strong>{expired ? "This invitation has expired." : "This invitation link cannot be used."}</strong>{" "}
          {errors.map((e) => e.message).join(" ")}</p>
        {expired ? (
          <p>Ask the business's lead user to send the invitation again (People › Invitations ›
            Send again). The new email has a fresh link; this one will not work again.</p>
        ) : (
          <ul>
            <li><strong>Already accepted?</strong> An invitation is accepted once. When you registered
              with the email address it was sent to, access was granted as your account was activated:
              look for the business below.</li>
            <li><strong>Cancelled or sent again?</strong> Sending an invitation again replaces the old
              link. Open the newest invitation email, or ask the business's lead user for a new one.</li>
            <li><strong>Copied by hand?</strong> Open the link straight from the email; the whole
              address, including everything after <code>token=</code>, is needed.</li>
          </ul>
        )}
      </div>
      <YourBusinesses />
    </>
  );
}

function Accept({ token }: { token: string }) {
  const me = useQuery<{ me: { username: string; email: string | null; firstName: string; lastName: string } | null }>(
    ACCEPTING_USER);
  const accept = useMutation<AcceptResult>(ACCEPT_INVITATION);
  const [granted, setGranted] = useState<Grant | null>(null);
  const [refused, setRefused] = useState<UserError[] | null>(null);
  const run = async () => {
    const data = await accept.run({ input: { token } });
    if (!data) return;
    const { membership, userErrors } = data.acceptInvitation;
    if (membership) setGranted(membership);
    else setRefused(userErrors.length ? userErrors : [{
      field: null, message: "The server did not grant the access.", code: "BAD_USER_INPUT", severity: "ERROR",
    }]);
  };
  if (granted) {
    const org = granted.organization;
    return (
      <Page title="Invitation accepted">
        <Success>You now have {level(granted.role)} access to <strong>{org?.name ?? "the business"}</strong>.</Success>
        {org ? <p><Link to={`/businesses/${org.id}`} className="button">Open {org.name}</Link></p>
          : <p><Link to="/businesses">Go to my businesses</Link></p>}
      </Page>
    );
  }
  if (refused) {
    return <Page title="Invitation not accepted"><Refused errors={refused} /></Page>;
  }
  return (
    <Page title="Accept your invitation">
      <Loaded state={me}>{(data) => (
        <section className="card" aria-labelledby="what-h">
          <h2 id="what-h">What you are accepting</h2>
          <p>An invitation to join a business in CERS. The business and your permission level were
            chosen by its lead user and are shown as soon as you accept.</p>
          <p>The access goes to the account you are signed in with:{" "}
            <strong>{data.me ? `${data.me.firstName} ${data.me.lastName}` : "this account"}</strong>
            {data.me ? ` (user name ${data.me.username}${data.me.email ? `, ${data.me.email}` : ""})` : ""}.
            If that is not you, sign out and sign in with your own account first.</p>
          {accept.error ? <ErrorNotice error={accept.error} /> : null}
          <div className="row">
            <button type="button" disabled={accept.busy} onClick={() => void run()}>
              {accept.busy ? "Accepting…" : "Accept invitation"}</button>
            <button type="button" className="secondary" onClick={signOut}>Sign out</button>
          </div>
        </section>
      )}</Loaded>
    </Page>
  );
}

export function AcceptInvitation() {
  const location = useLocation();
  const token = location.query.get("token") ?? "";
  const session = currentSession();
  if (!token) {
    return (
      <Page title="Accept your invitation">
        <ErrorNotice error={"This link has no invitation token. Open the link from your invitation email " +
          "again (the whole address, including everything after token=)."} />
        <p><Link to="/">Go to the start page</Link></p>
      </Page>
    );
  }
  if (!session) {
    return (
      <Page title="Accept your invitation">
        <p className="lead">You were invited to join a business in CERS.</p>
        <section className="card portal-card portal-business" aria-labelledby="signin-h">
          <h2 id="signin-h">Sign in to accept</h2>
          <p>Sign in to the Business Portal; you will come back to this page to accept.</p>
          <div className="row">
            <button type="button" onClick={() => void signIn("business", location.href)}>
              Sign in to the Business Portal</button>
            <Link to="/signup?portal=business">New Account</Link>
          </div>
          <p>No account yet? Create one with the email address this invitation was sent to: the
            access is granted as soon as you activate the account.</p>
        </section>
      </Page>
    );
  }
  if (session.portal !== "business") {
    return (
      <Page title="Accept your invitation">
        <ErrorNotice error={"You are signed in to the Regulator Portal. Invitations give access to a " +
          "business: sign out, then open this link again and sign in with your Business Portal account."} />
        <button type="button" onClick={signOut}>Sign out</button>
      </Page>
    );
  }
  return <Accept token={token} />;
}
