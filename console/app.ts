// The operators' console in the browser (issue 12 §1): sign-in, then devices, alerts, the
// journal, policy and plots, each a view over the back end's /console/api JSON routes. Preact
// with htm (no build-time JSX), bundled with uPlot by `trusttap build` (build/console.ts) into
// build/console/: no CDN, nothing fetched from elsewhere.
import { render } from 'preact';
import { useState, useEffect } from 'preact/hooks';
import { api, setCsrf, ApiFailure } from './api.ts';
import { html, ErrorLine, acquirerLabel, type Me } from './ui.ts';
import { Devices } from './devices.ts';
import { Alerts } from './alerts.ts';
import { Journal } from './journal.ts';
import { PolicyView } from './policy.ts';
import { Plots } from './plots.ts';

const VIEWS = [
  { id: 'devices', label: 'Devices' }, { id: 'alerts', label: 'Alerts' }, { id: 'journal', label: 'Journal' },
  { id: 'policy', label: 'Policy' }, { id: 'plots', label: 'Plots' },
] as const;
type ViewId = (typeof VIEWS)[number]['id'];

function SignIn({ onIn }: { onIn: (me: Me) => void }) {
  const [mode, setMode] = useState<'account' | 'token'>('account');
  const [error, setError] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    setError('');
    try {
      const body = mode === 'token' ? { adminToken: String(f.get('token')) } : { username: String(f.get('username')), password: String(f.get('password')) };
      onIn(await api<Me>('POST', 'session', body));
    } catch (x) {
      setError((x as Error).message);
    }
  };
  return html`<main class="login">
    <h1>TrustTap operators' console</h1>
    <form onSubmit=${submit} aria-label="Sign in">
      <fieldset>
        <legend>Sign in with</legend>
        <label class="check"><input type="radio" name="mode" checked=${mode === 'account'} onChange=${() => setMode('account')} /> an operator account</label>
        <label class="check"><input type="radio" name="mode" checked=${mode === 'token'} onChange=${() => setMode('token')} /> the admin token</label>
      </fieldset>
      ${mode === 'account' ? html`
        <label>Username <input name="username" autocomplete="username" required /></label>
        <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>` : html`
        <label>Admin token <input name="token" type="password" autocomplete="off" required /></label>`}
      <p><button class="primary" type="submit">Sign in</button></p>
      <${ErrorLine} error=${error} />
    </form>
  </main>`;
}

function Shell({ me, onOut }: { me: Me; onOut: () => void }) {
  const [view, setView] = useState<ViewId>('devices');
  const [focusDevice, setFocusDevice] = useState('');
  const openDevice = (id: string) => { setFocusDevice(id); setView('devices'); };
  const signOut = async () => { await api('DELETE', 'session').catch(() => undefined); onOut(); };
  return html`<div>
    <header>
      <h1>TrustTap console</h1>
      <nav aria-label="Console sections"><ul>
        ${VIEWS.map((v) => html`<li><button type="button" aria-current=${view === v.id ? 'page' : undefined} onClick=${() => setView(v.id)}>${v.label}</button></li>`)}
      </ul></nav>
      <span class="who">Signed in as <strong>${me.username}</strong> (${me.role}, ${acquirerLabel(me)})</span>
      <button type="button" onClick=${signOut}>Sign out</button>
    </header>
    <main id="main">
      ${view === 'devices' && html`<${Devices} me=${me} focus=${focusDevice} />`}
      ${view === 'alerts' && html`<${Alerts} openDevice=${openDevice} />`}
      ${view === 'journal' && html`<${Journal} me=${me} openDevice=${openDevice} />`}
      ${view === 'policy' && html`<${PolicyView} me=${me} />`}
      ${view === 'plots' && html`<${Plots} />`}
    </main>
  </div>`;
}

function App() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  useEffect(() => {
    api<Me>('GET', 'session').then(
      (m) => { setCsrf(m.csrfToken); setMe(m); },
      (e) => { if (!(e instanceof ApiFailure) || e.status !== 401) console.error(e); setMe(null); },
    );
  }, []);
  if (me === undefined) return html`<p>Loading…</p>`;
  if (!me) return html`<${SignIn} onIn=${(m: Me) => { setCsrf(m.csrfToken); setMe(m); }} />`;
  return html`<${Shell} me=${me} onOut=${() => { setCsrf(''); setMe(null); }} />`;
}

render(html`<${App} />`, document.getElementById('root')!);
