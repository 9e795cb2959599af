import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { me, onKeyRefused, type ApiError } from "./api.ts";
import { capabilitiesOf } from "./capabilities.ts";
import { Header } from "./components/header.tsx";
import { Link } from "./components/link.tsx";
import { AllKeys } from "./pages/all-keys.tsx";
import { AuditLog } from "./pages/audit-log.tsx";
import { KeyDetail } from "./pages/key-detail.tsx";
import { MyKeys } from "./pages/my-keys.tsx";
import { SignIn } from "./pages/sign-in.tsx";
import { Users } from "./pages/users.tsx";
import { navigate, useLocation, type Location } from "./router.ts";
import { forgetKey, storedKey } from "./session.ts";
import type { Caller } from "./types.ts";

type Session = { state: "checking" } | { state: "signed-out"; notice?: ApiError[] } | { state: "signed-in"; caller: Caller };

export function App() {
  const location = useLocation();
  const [session, setSession] = useState<Session>(() => (storedKey() ? { state: "checking" } : { state: "signed-out" }));

  useEffect(() => {
    // A key that stops working (revoked, switched off, its owner disabled) signs the person out.
    onKeyRefused((errors) => {
      forgetKey();
      setSession({ state: "signed-out", notice: errors });
    });
    if (!storedKey()) return;
    me().then((result) => {
      if (result.ok) setSession({ state: "signed-in", caller: result.data });
      else if (result.status !== 401) setSession({ state: "signed-out", notice: result.errors });
    });
  }, []);

  const signOut = () => {
    forgetKey();
    setSession({ state: "signed-out" });
  };

  useEffect(() => {
    const title = document.querySelector("main h1")?.textContent;
    document.title = title ? `${title} · Keyscope console` : "Keyscope console";
  });

  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      {session.state === "checking" ? (
        <main id="main">
          <p role="status">Checking your key…</p>
        </main>
      ) : session.state === "signed-out" ? (
        <SignIn notice={session.notice} onSignedIn={(caller) => setSession({ state: "signed-in", caller })} />
      ) : (
        <SignedIn caller={session.caller} location={location} onSignOut={signOut} />
      )}
    </>
  );
}

function SignedIn(props: { caller: Caller; location: Location; onSignOut: () => void }) {
  const { caller, location } = props;
  const capabilities = capabilitiesOf(caller);
  const start = capabilities.self ? "/keys" : capabilities.admin ? "/all-keys" : undefined;
  useEffect(() => {
    if (location.path === "/" && start) navigate(start, { replace: true });
  }, [location.path, start]);
  return (
    <>
      <Header caller={caller} capabilities={capabilities} path={location.path} onSignOut={props.onSignOut} />
      <Page caller={caller} location={location} self={capabilities.self} admin={capabilities.admin} />
    </>
  );
}

function Page(props: { caller: Caller; location: Location; self: boolean; admin: boolean }) {
  const { caller, location, self, admin } = props;
  const path = location.path.replace(/\/+$/, "") || "/";
  const keyId = /^\/keys\/([^/]+)$/.exec(path)?.[1];
  if (path === "/") return <Message title="Nothing to manage" text="This key holds neither keys:self nor keys:admin, so it cannot manage keys here." />;
  if (path === "/keys" || keyId) {
    if (!self && !admin) return <Message title="Not allowed" text="Managing keys needs a key with keys:self." />;
    if (keyId) return <KeyDetail key={keyId} id={decodeURIComponent(keyId)} caller={caller} admin={admin} />;
    return <MyKeys caller={caller} admin={admin} location={location} />;
  }
  const adminPages: Record<string, () => JSX.Element> = {
    "/all-keys": () => <AllKeys location={location} />,
    "/users": () => <Users caller={caller} location={location} />,
    "/audit": () => <AuditLog caller={caller} location={location} />,
  };
  const adminPage = adminPages[path];
  if (adminPage) return admin ? adminPage() : <Message title="Admins only" text="This page needs a key with keys:admin whose owner is an admin." />;
  return <Message title="Page not found" text="The console has no page at this address." />;
}

function Message(props: { title: string; text: string }) {
  return (
    <main id="main">
      <h1>{props.title}</h1>
      <p>{props.text}</p>
      <p>
        <Link to="/">Back to the start</Link>
      </p>
    </main>
  );
}
