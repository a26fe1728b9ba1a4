// Devices: the list (state filter, search), one device's record — state, merchant/terminal, the
// last verdict and its reasons, REE health signals, IP and location history, device history,
// its payments — and the operator's actions: suspend / resume / retire with a reason, a new
// terminal with its activation code, expiring an unused code.
import { useState, useEffect } from 'preact/hooks';
import { api, query } from './api.ts';
import { html, time, ErrorLine, canChange, type Me } from './ui.ts';

const REFRESH_MS = 5000;

interface DeviceSummary {
  deviceId: string; acquirerId: string; merchantId: string; terminalId: string; state: string; stateReason: string; lastVerdict: string;
  attestationRequired: boolean; lastAttestationMs: number; lastHeartbeatMs: number; lastContactMs: number; lastIp: string;
  activation: 'pending' | 'expired' | 'used'; activationExpiresMs: number; createdMs: number;
}

export function Devices({ me, focus }: { me: Me; focus: string }) {
  const [state, setState] = useState('');
  const [text, setText] = useState('');
  const [list, setList] = useState<DeviceSummary[]>([]);
  const [open, setOpen] = useState(focus);
  const [error, setError] = useState('');
  const [tick, setTick] = useState(0);
  const load = () => api<DeviceSummary[]>('GET', `devices${query({ state, q: text })}`).then((l) => { setList(l); setError(''); }, (e) => setError(e.message));
  useEffect(() => {
    load();
    const timer = setInterval(load, REFRESH_MS); // states change by rules too (a root finding suspends)
    return () => clearInterval(timer);
  }, [state, text, tick]);
  useEffect(() => { if (focus) setOpen(focus); }, [focus]);
  return html`<section aria-labelledby="devices-h">
    <h2 id="devices-h">Devices</h2>
    <form class="row" role="search" aria-label="Filter devices" onSubmit=${(e: Event) => e.preventDefault()}>
      <label>State <select value=${state} onChange=${(e: Event) => setState((e.target as HTMLSelectElement).value)}>
        <option value="">any</option><option value="registered">registered</option><option value="active">active</option>
        <option value="suspended">suspended</option><option value="disabled">retired (disabled)</option>
      </select></label>
      <label>Search <input type="search" value=${text} placeholder="device, merchant, terminal, IP" onInput=${(e: Event) => setText((e.target as HTMLInputElement).value)} /></label>
      <button type="button" onClick=${() => setTick(tick + 1)}>Refresh</button>
      <span class="note">(the list refreshes every ${REFRESH_MS / 1000} s)</span>
    </form>
    <${ErrorLine} error=${error} />
    <table aria-label="Devices">
      <thead><tr><th scope="col">Device</th><th scope="col">Acquirer</th><th scope="col">Merchant / terminal</th><th scope="col">State</th><th scope="col">Last verdict</th><th scope="col">Last contact</th><th scope="col">IP</th></tr></thead>
      <tbody>${list.map((d) => html`<tr>
        <td><button type="button" class="code" aria-label=${`Open device ${d.deviceId}`} onClick=${() => setOpen(d.deviceId)}>${d.deviceId}</button></td>
        <td>${d.acquirerId}</td>
        <td>${d.merchantId} / ${d.terminalId}</td>
        <td class=${`state-${d.state}`} data-testid="device-state">${d.state}${d.activation === 'pending' ? ' (code pending)' : d.activation === 'expired' ? ' (code expired)' : ''}</td>
        <td class=${`verdict-${d.lastVerdict}`}>${d.lastVerdict || '—'}</td>
        <td>${time(d.lastContactMs)}</td><td>${d.lastIp || '—'}</td></tr>`)}
      </tbody>
    </table>
    ${list.length === 0 && !error ? html`<p class="note">No device matches.</p>` : null}
    ${open ? html`<${Device} key=${open} id=${open} me=${me} onChanged=${() => setTick(tick + 1)} onClose=${() => setOpen('')} />` : null}
    <${NewTerminal} me=${me} onCreated=${(id: string) => { setTick(tick + 1); setOpen(id); }} />
  </section>`;
}

function Device({ id, me, onChanged, onClose }: { id: string; me: Me; onChanged: () => void; onClose: () => void }) {
  const [d, setD] = useState<any>(null);
  const [reason, setReason] = useState('');
  const [error, setError] = useState('');
  const [done, setDone] = useState('');
  const load = () => api('GET', `devices/${encodeURIComponent(id)}`).then(setD, (e) => setError(e.message));
  useEffect(() => { load(); }, [id]);
  const act = async (action: string) => {
    setError(''); setDone('');
    try {
      const path = action === 'expire' ? `devices/${encodeURIComponent(id)}/expire-activation` : `devices/${encodeURIComponent(id)}/${action}`;
      setD(await api('POST', path, { reason }));
      setDone(`${action} done`); setReason(''); onChanged();
    } catch (e) { setError((e as Error).message); }
  };
  if (!d) return html`<div class="card"><${ErrorLine} error=${error} /><p>Loading ${id}…</p></div>`;
  const change = canChange(me);
  const last = d.signals[d.signals.length - 1];
  return html`<section class="card" aria-labelledby="device-h" data-testid="device-detail">
    <h3 id="device-h">Device <span class="code">${d.deviceId}</span> <button type="button" onClick=${onClose}>Close</button></h3>
    <dl class="kv">
      <dt>Acquirer</dt><dd>${d.acquirerId}</dd>
      <dt>Merchant / terminal</dt><dd>${d.merchantId} / ${d.terminalId}</dd>
      <dt>State</dt><dd><span class=${`state-${d.state}`} data-testid="detail-state">${d.state}</span>${d.stateReason ? ` — ${d.stateReason}` : ''}</dd>
      <dt>Last verdict</dt><dd><span class=${`verdict-${d.lastVerdict}`}>${d.lastVerdict || 'none yet'}</span>${d.lastVerdictDetail ? ` at ${time(d.lastVerdictDetail.timeMs)}: ${d.lastVerdictDetail.reasons}` : ''}</dd>
      <dt>Fresh attestation needed</dt><dd>${d.attestationRequired ? 'yes' : 'no'}</dd>
      <dt>Last attestation / heartbeat</dt><dd>${time(d.lastAttestationMs)} / ${time(d.lastHeartbeatMs)}</dd>
      <dt>Activation code</dt><dd>${d.activation}${d.activation === 'pending' ? `, until ${time(d.activationExpiresMs)}` : ''}</dd>
      <dt>Last IP / location</dt><dd>${d.lastIp || '—'} / ${d.location ? `${d.location.latitude.toFixed(4)}, ${d.location.longitude.toFixed(4)}` : '—'}</dd>
      <dt>REE client</dt><dd data-testid="detail-client">${d.client?.reported ? `${d.client.reported.name} ${d.client.reported.version} (sha256 ${d.client.reported.sha256.slice(0, 16)}…)` : 'none reported'}${d.client?.lastRefusal ? html` — <strong class="verdict-suspend">refused at ${time(d.client.lastRefusal.timeMs)}: ${d.client.lastRefusal.detail}</strong>` : ''}</dd>
      <dt>REE health signals</dt><dd>${last ? Object.entries(last.signals).map(([k, v]) => html`<span>${k}: <strong>${String(v) || '—'}</strong>; </span>`) : 'none reported'}</dd>
    </dl>
    <form class="row" aria-label="Change the device" onSubmit=${(e: Event) => e.preventDefault()}>
      <label>Reason (goes into the history) <input name="reason" size="40" value=${reason} onInput=${(e: Event) => setReason((e.target as HTMLInputElement).value)} disabled=${!change} /></label>
      ${d.state === 'active' ? html`<button type="button" class="danger" disabled=${!change} onClick=${() => act('suspend')}>Suspend</button>` : null}
      ${d.state === 'suspended' ? html`<button type="button" class="primary" disabled=${!change} onClick=${() => act('resume')}>Resume</button>` : null}
      ${d.state !== 'disabled' && d.state !== 'registered' ? html`<button type="button" disabled=${!change} onClick=${() => act('retire')}>Retire</button>` : null}
      ${d.activation === 'pending' ? html`<button type="button" disabled=${!change} onClick=${() => act('expire')}>Expire activation code</button>` : null}
    </form>
    ${change ? null : html`<p class="note" data-testid="viewer-note">Your role (${me.role}) can look but not change devices.</p>`}
    <${ErrorLine} error=${error} />
    ${done ? html`<p role="status">${done}</p>` : null}
    <h3>IP and location history</h3>
    <table aria-label="IP and location history"><thead><tr><th scope="col">Time</th><th scope="col">From</th><th scope="col">IP</th><th scope="col">Location</th></tr></thead>
      <tbody>${[...d.signals].reverse().map((s: any) => html`<tr><td>${time(s.timeMs)}</td><td>${s.source}</td><td>${s.ip || '—'}</td><td>${s.location ? `${s.location.latitude.toFixed(4)}, ${s.location.longitude.toFixed(4)}` : '—'}</td></tr>`)}</tbody></table>
    <h3>Payments</h3>
    <table aria-label="Payments of the device"><thead><tr><th scope="col">Time</th><th scope="col">Reference</th><th scope="col">Amount</th><th scope="col">Outcome</th><th scope="col">Card</th></tr></thead>
      <tbody>${d.payments.map((p: any) => html`<tr><td>${time(p.createdMs)}</td><td class="code">${p.reference}</td><td>${p.amount}</td><td class=${`outcome-${p.outcome}`}>${p.outcome}${p.outcome === 'declined' ? ` (${p.reason})` : ''}</td><td class="code">${p.maskedPan}</td></tr>`)}</tbody></table>
    <h3>History</h3>
    <table aria-label="Device history"><thead><tr><th scope="col">Time</th><th scope="col">Kind</th><th scope="col">Verdict</th><th scope="col">Detail</th><th scope="col">Policy</th></tr></thead>
      <tbody>${d.history.map((h: any) => html`<tr><td>${time(h.timeMs)}</td><td>${h.kind}</td><td class=${`verdict-${h.verdict}`}>${h.verdict || ''}</td><td>${h.detail}</td><td>${h.policyVersion}</td></tr>`)}</tbody></table>
  </section>`;
}

function NewTerminal({ me, onCreated }: { me: Me; onCreated: (id: string) => void }) {
  const [made, setMade] = useState<{ deviceId: string; activationCode: string; expiresMs: number } | null>(null);
  const [error, setError] = useState('');
  if (!canChange(me)) return null;
  const submit = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    setError('');
    try {
      const t = await api('POST', 'terminals', { merchantId: String(f.get('merchant')), terminalId: String(f.get('terminal')) });
      setMade(t); onCreated(t.deviceId);
    } catch (x) { setError((x as Error).message); }
  };
  return html`<section aria-labelledby="terminal-h" class="card">
    <h3 id="terminal-h">New terminal</h3>
    <form class="row" onSubmit=${submit} aria-label="New terminal">
      <label>Merchant id <input name="merchant" required maxlength="15" /></label>
      <label>Terminal id <input name="terminal" required maxlength="8" /></label>
      <button type="submit" class="primary">Create and get an activation code</button>
    </form>
    <${ErrorLine} error=${error} />
    ${made ? html`<p role="status">Device <span class="code">${made.deviceId}</span>: activation code <strong class="code">${made.activationCode}</strong> (shown once; valid until ${time(made.expiresMs)})</p>` : null}
  </section>`;
}
