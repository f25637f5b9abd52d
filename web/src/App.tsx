import { useEffect, useState, type ReactNode } from "react";
import { currentSession, PORTAL_NAMES, signOut, type Portal, type Session } from "./auth";
import { Link, match, useLocation } from "./router";
import { Callback, Home, SignInNeeded } from "./pages/Home";
import { Activate, Profile, Signup } from "./pages/Account";
import { Businesses, Organization, RequestAccess } from "./pages/Businesses";
import { People } from "./pages/People";
import { FacilityPage } from "./pages/Facility";
import { SubmitAll } from "./pages/SubmitAll";
import { ElementPage } from "./pages/Element";
import { ReviewQueue, Search } from "./pages/Regulator";
import { MaterialSearch } from "./pages/MaterialSearch";
import { Agencies, AgencyPage } from "./pages/Agency";
import { AcceptInvitation } from "./pages/Invitation";
import { Jurisdictions } from "./pages/Jurisdictions";

type Render = (params: Record<string, string>) => ReactNode;

const PUBLIC: [string, Render][] = [
  ["/", () => <Home />],
  ["/auth/callback", () => <Callback />],
  ["/signup", () => <Signup />],
  ["/activate", () => <Activate />],
  // Public so the page itself explains the invitation and sends the user to Business Portal sign-in.
  ["/invitations/accept", () => <AcceptInvitation />],
];

const PRIVATE: [string, Render][] = [
  ["/profile", () => <Profile />],
  ["/businesses", () => <Businesses />],
  ["/businesses/:id", (p) => <Organization id={p.id} />],
  ["/businesses/:id/people", (p) => <People id={p.id} />],
  ["/request-access", () => <RequestAccess />],
  ["/facilities/:id", (p) => <FacilityPage id={p.id} />],
  ["/facilities/:id/submit", (p) => <SubmitAll id={p.id} />],
  ["/elements/:id", (p) => <ElementPage id={p.id} />],
  ["/review", () => <ReviewQueue />],
  ["/search", () => <Search />],
  ["/materials", () => <MaterialSearch />],
  ["/agencies", () => <Agencies />],
  ["/agencies/:id", (p) => <AgencyPage id={p.id} />],
  ["/jurisdictions", () => <Jurisdictions />],
];

function useSession(): Session | null {
  const [session, setSession] = useState(currentSession);
  useEffect(() => {
    const update = () => setSession(currentSession());
    window.addEventListener("cers-session", update);
    return () => window.removeEventListener("cers-session", update);
  }, []);
  return session;
}

function Nav({ portal }: { portal: Portal }) {
  const links: Record<Portal, string[][]> = {
    business: [["/businesses", "My businesses"], ["/request-access", "Request access"]],
    regulator: [["/review", "Review queue"], ["/search", "Facilities"],
      ["/materials", "Hazardous materials"], ["/agencies", "My agency"]],
    state: [["/jurisdictions", "Jurisdictions"], ["/search", "Facilities"],
      ["/materials", "Hazardous materials"]],
  };
  return (
    <nav aria-label="Main">
      <ul>
        {links[portal].map(([to, label]) => <li key={to}><Link to={to}>{label}</Link></li>)}
        <li><Link to="/profile">Profile</Link></li>
        <li><button type="button" className="link" onClick={signOut}>Sign out</button></li>
      </ul>
    </nav>
  );
}

export function App() {
  const location = useLocation();
  const session = useSession();
  const asked = location.query.get("portal");
  const portal: Portal = session?.portal
    ?? (asked === "regulator" || asked === "state" ? asked : "business");
  useEffect(() => { document.documentElement.dataset.portal = portal; }, [portal]);

  let content: ReactNode = null;
  for (const [pattern, render] of PUBLIC) {
    const params = match(pattern, location.path);
    if (params) content = render(params);
  }
  if (content === null) {
    for (const [pattern, render] of PRIVATE) {
      const params = match(pattern, location.path);
      if (params) content = session ? render(params) : <SignInNeeded returnTo={location.href} />;
    }
  }
  content ??= (
    <div className="notice error" role="alert">
      <h1>Page not found</h1>
      <p>There is no page at {location.path}. <Link to="/">Go to the start page</Link>.</p>
    </div>
  );
  return (
    <>
      <a className="skip" href="#main">Skip to content</a>
      <header className="top">
        <Link to="/" className="brand">
          <span className="brand-mark" aria-hidden="true">CERS</span>
          <span>{PORTAL_NAMES[portal]}</span>
        </Link>
        {session ? <Nav portal={session.portal} /> : null}
      </header>
      <main id="main" key={location.path}>{content}</main>
      <footer>California Environmental Reporting System · open, API-first · <a href="/graphql">GraphQL API</a></footer>
    </>
  );
}
