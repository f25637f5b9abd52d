import { useEffect, useState } from "react";
import { completeSignIn, currentSession, PORTAL_NAMES, signIn, type Portal } from "../auth";
import { Link, navigate, useLocation } from "../router";
import { ErrorNotice, Loading, Page } from "../ui";

const HOME: Record<Portal, string> = { business: "/businesses", regulator: "/review", state: "/jurisdictions" };
const ABOUT: Record<Portal, string> = {
  business: "Report your facilities' hazardous materials, plans and permits to your local regulator.",
  regulator: "Review submittals, find facilities in your jurisdiction, issue permits and manage staff.",
  state: "For the state's CUPA program: read across every county and keep each agency's jurisdiction. Accounts are made by an operator.",
};

function PortalCard({ portal, returnTo }: { portal: Portal; returnTo: string }) {
  const name = PORTAL_NAMES[portal];
  return (
    <section className={`card portal-card portal-${portal}`} aria-labelledby={`card-${portal}`}>
      <h2 id={`card-${portal}`}>{name}</h2>
      <p>{ABOUT[portal]}</p>
      <div className="row">
        <button type="button" onClick={() => void signIn(portal, returnTo)}>Sign in to the {name}</button>
        {portal === "state" ? null : <Link to={`/signup?portal=${portal}`}>New Account</Link>}
      </div>
      <p><a href={`/account/forgot?portal=${portal}`}>Forgot your user name or password?</a></p>
    </section>
  );
}

export function Home() {
  const session = currentSession();
  useEffect(() => {
    if (session) navigate(HOME[session.portal], { replace: true });
  }, [session]);
  if (session) return <Loading />;
  return (
    <Page title="Welcome to CERS">
      <p className="lead">Sign in with your CERS account, or create one.</p>
      <div className="grid two">
        <PortalCard portal="business" returnTo={HOME.business} />
        <PortalCard portal="regulator" returnTo={HOME.regulator} />
      </div>
      <PortalCard portal="state" returnTo={HOME.state} />
    </Page>
  );
}

export function SignInNeeded({ returnTo }: { returnTo: string }) {
  return (
    <Page title="Sign in to continue">
      <p>This page needs you to sign in. You will come back here afterwards.</p>
      <div className="grid two">
        <PortalCard portal="business" returnTo={returnTo} />
        <PortalCard portal="regulator" returnTo={returnTo} />
      </div>
      <PortalCard portal="state" returnTo={returnTo} />
    </Page>
  );
}

export function Callback() {
  const { query } = useLocation();
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let live = true;
    completeSignIn(query).then(
      (returnTo) => {
        const session = currentSession();
        const target = returnTo === "/" && session ? HOME[session.portal] : returnTo;
        if (live) navigate(target, { replace: true });
      },
      (e: unknown) => live && setError(e),
    );
    return () => { live = false; };
    // The code can be redeemed once: run on the first render only.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  if (error) {
    return (
      <Page title="Sign-in did not complete">
        <ErrorNotice error={error} />
        <p><Link to="/">Back to the start page</Link></p>
      </Page>
    );
  }
  return <Loading what="Signing you in" />;
}
