import { useState, type FormEvent } from "react";
import { gql, type UserError } from "../api";
import { signIn, type Portal } from "../auth";
import { Link, useLocation } from "../router";
import { ErrorNotice, Loaded, Page, Success, UserErrors, useMutation, useQuery } from "../ui";

const REGISTER = gql`
  mutation Register($input: RegisterAccountInput!) {
    registerAccount(input: $input) { message userErrors { field message code severity } }
  }`;

const ACTIVATE = gql`
  mutation Activate($input: ActivateAccountInput!) {
    activateAccount(input: $input) { user { id username portal } userErrors { field message code severity } }
  }`;

const ME = gql`
  query Me { me { id username email pendingEmail firstName lastName title phone portal status createdAt } }`;

const UPDATE_PROFILE = gql`
  mutation UpdateProfile($input: UpdateProfileInput!) {
    updateProfile(input: $input) { user { id email pendingEmail firstName lastName title phone } userErrors { field message code severity } }
  }`;

const CHANGE_PASSWORD = gql`
  mutation ChangePassword($input: ChangePasswordInput!) {
    changePassword(input: $input) { ok message userErrors { field message code severity } }
  }`;

interface Me {
  id: string; username: string; email: string | null; pendingEmail: string | null; firstName: string;
  lastName: string; title: string | null; phone: string | null; portal: string; status: string; createdAt: string;
}

type Form = Record<string, string>;

export function TextField({ name, label, form, set, type = "text", required = false, autoComplete, errors, hint }: {
  name: string; label: string; form: Form; set: (f: Form) => void; type?: string; required?: boolean;
  autoComplete?: string; errors?: UserError[] | null; hint?: string;
}) {
  const own = errors?.filter((e) => e.field?.[e.field.length - 1] === name) ?? [];
  const id = `f-${name}`;
  const described = [hint ? `${id}-hint` : "", own.length ? `${id}-err` : ""].filter(Boolean).join(" ");
  return (
    <div className="field">
      <label htmlFor={id}>{label}{required ? <span aria-hidden="true"> *</span> : null}</label>
      {hint ? <p className="hint" id={`${id}-hint`}>{hint}</p> : null}
      <input id={id} name={name} type={type} value={form[name] ?? ""} required={required}
        autoComplete={autoComplete} aria-invalid={own.length ? true : undefined}
        aria-describedby={described || undefined}
        onChange={(e) => set({ ...form, [name]: e.target.value })} />
      {own.length ? <p className="field-error" id={`${id}-err`}>{own.map((e) => e.message).join(" ")}</p> : null}
    </div>
  );
}

export function Signup() {
  const { query } = useLocation();
  const portal: Portal = query.get("portal") === "regulator" ? "regulator" : "business";
  const [form, setForm] = useState<Form>({});
  const [errors, setErrors] = useState<UserError[] | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const register = useMutation<{ registerAccount: { message: string; userErrors: UserError[] } }>(REGISTER);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await register.run({ input: {
      portal: portal.toUpperCase(), username: form.username ?? "", email: form.email ?? "",
      password: form.password ?? "", firstName: form.firstName ?? "", lastName: form.lastName ?? "",
      title: form.title || null, phone: form.phone || null,
    } });
    if (!result) return;
    setErrors(result.registerAccount.userErrors);
    // The same answer whether or not the address already has an account (its owner is mailed).
    if (!result.registerAccount.userErrors.length) setDone(form.username ?? "");
  };
  const name = portal === "business" ? "Business Portal" : "Regulator Portal";
  if (done) {
    return (
      <Page title="Check your email">
        <Success>We sent an email to {form.email} about the account <strong>{done}</strong>.
          Open the activation link in it, then sign in. If that address already has an account,
          the email says so instead.</Success>
        <p><a href={`/account/resend-activation?portal=${portal}`}>Did not get the email? Send a new link.</a></p>
      </Page>
    );
  }
  return (
    <Page title={`New ${name} account`}>
      <form onSubmit={submit} className="form" noValidate>
        <UserErrors errors={errors?.filter((e) => !e.field?.length)} />
        {register.error ? <ErrorNotice error={register.error} /> : null}
        <TextField name="username" label="User name" form={form} set={setForm} required autoComplete="username" errors={errors} />
        <TextField name="email" label="Email" type="email" form={form} set={setForm} required autoComplete="email" errors={errors} />
        <TextField name="password" label="Password" type="password" form={form} set={setForm} required
          autoComplete="new-password" errors={errors} hint="At least 12 characters; not a common password." />
        <div className="grid two">
          <TextField name="firstName" label="First name" form={form} set={setForm} required autoComplete="given-name" errors={errors} />
          <TextField name="lastName" label="Last name" form={form} set={setForm} required autoComplete="family-name" errors={errors} />
        </div>
        <div className="grid two">
          <TextField name="title" label="Title" form={form} set={setForm} autoComplete="organization-title" errors={errors} />
          <TextField name="phone" label="Phone" type="tel" form={form} set={setForm} autoComplete="tel" errors={errors} />
        </div>
        <button type="submit" disabled={register.busy}>{register.busy ? "Creating…" : "Create account"}</button>
      </form>
    </Page>
  );
}

export function Activate() {
  const { query } = useLocation();
  const token = query.get("token") ?? "";
  const [result, setResult] = useState<{ portal: string } | null>(null);
  const [errors, setErrors] = useState<UserError[] | null>(null);
  const activate = useMutation<{ activateAccount: { user: { portal: string } | null; userErrors: UserError[] } }>(ACTIVATE);
  const run = async () => {
    const data = await activate.run({ input: { token } });
    if (!data) return;
    setErrors(data.activateAccount.userErrors);
    if (data.activateAccount.user) setResult(data.activateAccount.user);
  };
  if (result) {
    const portal: Portal = result.portal === "REGULATOR" ? "regulator" : "business";
    return (
      <Page title="Your account is active">
        <Success>You can now sign in.</Success>
        <button type="button" onClick={() => void signIn(portal)}>Sign in</button>
      </Page>
    );
  }
  return (
    <Page title="Activate your account">
      {!token ? <ErrorNotice error="This link has no activation token. Open the link from your email again." /> : null}
      <UserErrors errors={errors} />
      {activate.error ? <ErrorNotice error={activate.error} /> : null}
      <p>Press Activate to finish creating your account.</p>
      <button type="button" disabled={!token || activate.busy} onClick={() => void run()}>Activate</button>
      <p><a href="/account/resend-activation">Link expired? Send a new one.</a></p>
    </Page>
  );
}

function ProfileForm({ me }: { me: Me }) {
  const [form, setForm] = useState<Form>({
    firstName: me.firstName, lastName: me.lastName, title: me.title ?? "", phone: me.phone ?? "", email: me.email ?? "",
  });
  const [errors, setErrors] = useState<UserError[] | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const update = useMutation<{ updateProfile: { user: Me | null; userErrors: UserError[] } }>(UPDATE_PROFILE);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(null);
    const data = await update.run({ input: {
      firstName: form.firstName, lastName: form.lastName, title: form.title, phone: form.phone,
      email: form.email !== me.email ? form.email : null,
    } });
    if (!data) return;
    setErrors(data.updateProfile.userErrors);
    const user = data.updateProfile.user;
    if (user && !data.updateProfile.userErrors.length) {
      setSaved(user.pendingEmail ? `Profile saved. Confirm ${user.pendingEmail} from the email we sent.` : "Profile saved.");
    }
  };
  return (
    <form onSubmit={submit} className="form" aria-labelledby="profile-h">
      <h2 id="profile-h">Your profile</h2>
      <p>User name: <strong>{me.username}</strong> · {me.portal.toLowerCase()} account</p>
      {saved ? <Success>{saved}</Success> : null}
      {update.error ? <ErrorNotice error={update.error} /> : null}
      <UserErrors errors={errors?.filter((e) => !e.field?.length)} />
      <div className="grid two">
        <TextField name="firstName" label="First name" form={form} set={setForm} required errors={errors} />
        <TextField name="lastName" label="Last name" form={form} set={setForm} required errors={errors} />
        <TextField name="title" label="Title" form={form} set={setForm} errors={errors} />
        <TextField name="phone" label="Phone" type="tel" form={form} set={setForm} errors={errors} />
      </div>
      <TextField name="email" label="Email" type="email" form={form} set={setForm} errors={errors}
        hint={me.pendingEmail ? `Waiting for confirmation: ${me.pendingEmail}` : "A new address is used after you confirm it."} />
      <button type="submit" disabled={update.busy}>Save profile</button>
    </form>
  );
}

function PasswordForm() {
  const [form, setForm] = useState<Form>({});
  const [errors, setErrors] = useState<UserError[] | null>(null);
  const [saved, setSaved] = useState(false);
  const change = useMutation<{ changePassword: { ok: boolean; message: string; userErrors: UserError[] } }>(CHANGE_PASSWORD);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    const data = await change.run({ input: { currentPassword: form.currentPassword ?? "", newPassword: form.newPassword ?? "" } });
    if (!data) return;
    setErrors(data.changePassword.userErrors);
    if (data.changePassword.ok) { setSaved(true); setForm({}); }
  };
  return (
    <form onSubmit={submit} className="form" aria-labelledby="password-h">
      <h2 id="password-h">Change password</h2>
      {saved ? <Success>Your password is changed.</Success> : null}
      {change.error ? <ErrorNotice error={change.error} /> : null}
      <UserErrors errors={errors} />
      <TextField name="currentPassword" label="Current password" type="password" form={form} set={setForm} required autoComplete="current-password" />
      <TextField name="newPassword" label="New password" type="password" form={form} set={setForm} required
        autoComplete="new-password" hint="At least 12 characters; not a common password." />
      <button type="submit" disabled={change.busy}>Change password</button>
    </form>
  );
}

export function Profile() {
  const state = useQuery<{ me: Me | null }>(ME);
  return (
    <Page title="Profile and password">
      <Loaded state={state}>{(data) => data.me ? (
        <div className="grid two">
          <ProfileForm me={data.me} />
          <PasswordForm />
        </div>
      ) : <ErrorNotice error="Your account could not be found. Sign out and sign in again." />}</Loaded>
      <p><Link to="/">Back</Link></p>
    </Page>
  );
}
