// Policy: the current version, every version with what changed, and a change tried first — the
// tunables edited or a signed manifest (manifest.json + manifest.sig) — showing the difference
// and which devices' verdicts it would change, then rolled out with a reason.
import { useState, useEffect } from 'preact/hooks';
import { api } from './api.ts';
import { html, time, ErrorLine, canChange, type Me } from './ui.ts';

function Changes({ changes }: { changes: any[] }) {
  if (!changes.length) return html`<span class="note">no change</span>`;
  return html`<ul>${changes.map((c) => html`<li><strong>${c.field}</strong>: ${'to' in c ? html`${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}` : html`${c.added.length ? `added ${c.added.map((x: unknown) => (typeof x === 'object' ? (x as any).name ?? JSON.stringify(x) : String(x))).join(', ')}` : ''}${c.added.length && c.removed.length ? '; ' : ''}${c.removed.length ? `removed ${c.removed.map((x: unknown) => (typeof x === 'object' ? (x as any).name ?? JSON.stringify(x) : String(x))).join(', ')}` : ''}`}</li>`)}</ul>`;
}

const list = (s: FormDataEntryValue | null) => String(s ?? '').split(',').map((x) => x.trim()).filter(Boolean);

export function PolicyView({ me }: { me: Me }) {
  const [data, setData] = useState<any>(null);
  const [preview, setPreview] = useState<any>(null);
  const [change, setChange] = useState<any>(null);
  const [reason, setReason] = useState('');
  const [error, setError] = useState('');
  const [done, setDone] = useState('');
  // Each acquirer has its own policy; a scheme session (every acquirer) picks which one.
  const [acquirers, setAcquirers] = useState<{ acquirerId: string; name: string }[]>([]);
  const [acq, setAcq] = useState('');
  const load = (which = acq) => api('GET', `policy${which ? `?acquirer=${encodeURIComponent(which)}` : ''}`).then((d) => { setData(d); setAcq(d.acquirerId); }, (e) => setError(e.message));
  useEffect(() => {
    load();
    if (me.acquirerId === '*') api('GET', 'acquirers').then(setAcquirers, (e) => setError(e.message));
  }, []);
  const tryChange = async (c: any) => {
    setError(''); setDone('');
    const withAcq = { ...c, acquirerId: acq };
    try { setPreview(await api('POST', 'policy/preview', withAcq)); setChange(withAcq); } catch (x) { setError((x as Error).message); setPreview(null); }
  };
  const fromTunables = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    tryChange({ tunables: {
      runtimeVersions: list(f.get('runtimeVersions')), bootStates: list(f.get('bootStates')), requiredTas: list(f.get('requiredTas')),
      nonceTtlMs: Number(f.get('nonceTtlMs')), tokenTtlMs: Number(f.get('tokenTtlMs')), heartbeatTimeoutMs: Number(f.get('heartbeatTimeoutMs')),
      locationJumpKm: Number(f.get('locationJumpKm')), developerOptionsStepUp: f.get('developerOptionsStepUp') === 'on',
      emulatorSuspend: f.get('emulatorSuspend') === 'on', debuggerSuspend: f.get('debuggerSuspend') === 'on',
      relaySuspend: f.get('relaySuspend') === 'on', hceSuspend: f.get('hceSuspend') === 'on', relayDecline: f.get('relayDecline') === 'on',
      clientPlatformMeasuredOnly: f.get('clientPlatformMeasuredOnly') === 'on',
    } });
  };
  const fromManifest = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const m = f.get('manifest') as File | null, s = f.get('signature') as File | null;
    if (!m?.size || !s?.size) { setError('choose manifest.json and manifest.sig'); return; }
    tryChange({ manifest: await m.text(), signature: (await s.text()).trim() });
  };
  const rollOut = async () => {
    setError('');
    try {
      const r = await api('POST', 'policy', { ...change, reason });
      setDone(`policy version ${r.version} rolled out`); setPreview(null); setReason(''); load();
    } catch (x) { setError((x as Error).message); }
  };
  if (!data) return html`<section><h2>Policy</h2><${ErrorLine} error=${error} /><p>Loading…</p></section>`;
  const p = data.current;
  const change_ = canChange(me);
  return html`<section aria-labelledby="policy-h">
    <h2 id="policy-h">Attestation policy of acquirer ${data.acquirerId} — version ${p.version}</h2>
    ${acquirers.length > 1 ? html`<label>Acquirer <select value=${acq} onChange=${(e: Event) => { const v = (e.target as HTMLSelectElement).value; setPreview(null); load(v); }}>
      ${acquirers.map((x) => html`<option value=${x.acquirerId}>${x.acquirerId} (${x.name})</option>`)}</select></label>` : null}
    <dl class="kv">
      <dt>Runtime versions</dt><dd>${p.runtimeVersions.join(', ')}</dd>
      <dt>Boot states</dt><dd>${p.bootStates.join(', ')}</dd>
      <dt>Required TAs</dt><dd>${p.requiredTas.join(', ')}</dd>
      <dt>Allowed TAs</dt><dd>${p.tas.map((t: any) => `${t.name} ${t.version} (${t.sha256.slice(0, 12)}…)`).join('; ') || 'none'}</dd>
      <dt>Signed manifests</dt><dd class="code">${p.manifestSha256.map((s: string) => `${s.slice(0, 16)}…`).join(', ') || 'none'}</dd>
    </dl>
    <h3>Versions</h3>
    <table aria-label="Policy versions"><thead><tr><th scope="col">Version</th><th scope="col">Since</th><th scope="col">What changed</th></tr></thead>
      <tbody>${data.versions.map((v: any) => html`<tr><td>${v.version}</td><td>${time(v.createdMs)}</td><td><${Changes} changes=${v.changes} /></td></tr>`)}</tbody></table>
    <h3>Change the policy</h3>
    <form aria-label="Policy tunables" onSubmit=${fromTunables}>
      <div class="row">
        <label>Runtime versions (comma-separated) <input name="runtimeVersions" value=${p.runtimeVersions.join(', ')} /></label>
        <label>Boot states <input name="bootStates" value=${p.bootStates.join(', ')} /></label>
        <label>Required TAs <input name="requiredTas" value=${p.requiredTas.join(', ')} /></label>
      </div>
      <div class="row">
        <label>Nonce TTL (ms) <input name="nonceTtlMs" type="number" min="0" value=${p.nonceTtlMs} /></label>
        <label>Token TTL (ms) <input name="tokenTtlMs" type="number" min="0" value=${p.tokenTtlMs} /></label>
        <label>Heartbeat timeout (ms) <input name="heartbeatTimeoutMs" type="number" min="0" value=${p.heartbeatTimeoutMs} /></label>
        <label>Location jump (km) <input name="locationJumpKm" type="number" min="0" value=${p.locationJumpKm} /></label>
      </div>
      <div class="row">
        <label class="check"><input type="checkbox" name="developerOptionsStepUp" checked=${p.developerOptionsStepUp} /> developer options ask for a step-up</label>
        <label class="check"><input type="checkbox" name="emulatorSuspend" checked=${p.emulatorSuspend} /> an emulator suspends</label>
        <label class="check"><input type="checkbox" name="debuggerSuspend" checked=${p.debuggerSuspend} /> a debugger suspends</label>
        <label class="check"><input type="checkbox" name="relaySuspend" checked=${p.relaySuspend} /> a relay reported by the phone suspends</label>
        <label class="check"><input type="checkbox" name="hceSuspend" checked=${p.hceSuspend} /> an HCE payment or accessibility service suspends</label>
        <label class="check"><input type="checkbox" name="relayDecline" checked=${p.relayDecline} /> relay resistance time limits exceeded declines the payment</label>
        <label class="check"><input type="checkbox" name="clientPlatformMeasuredOnly" checked=${p.clientPlatformMeasuredOnly} /> only platform-measured clients</label>
        <button type="submit">Preview these tunables</button>
      </div>
    </form>
    <form class="row" aria-label="Signed manifest" onSubmit=${fromManifest}>
      <label>manifest.json <input type="file" name="manifest" accept=".json,application/json" /></label>
      <label>manifest.sig <input type="file" name="signature" accept=".sig,text/plain" /></label>
      <button type="submit">Preview this signed manifest</button>
    </form>
    <${ErrorLine} error=${error} />
    ${done ? html`<p role="status">${done}</p>` : null}
    ${preview ? html`<section class="card" aria-labelledby="preview-h" data-testid="policy-preview">
      <h3 id="preview-h">${preview.unchanged ? 'Nothing would change' : `Version ${preview.policy.version} would change`}</h3>
      <${Changes} changes=${preview.changes} />
      <p>${preview.notified} device(s) would be told of the new version. Verdicts that would change on the devices' last evidence: ${preview.affected.length}</p>
      ${preview.affected.length ? html`<table aria-label="Affected devices"><thead><tr><th scope="col">Device</th><th scope="col">Merchant / terminal</th><th scope="col">Verdict now</th><th scope="col">Verdict then</th><th scope="col">Why</th></tr></thead>
        <tbody>${preview.affected.map((a: any) => html`<tr><td class="code">${a.deviceId}</td><td>${a.merchantId} / ${a.terminalId}</td><td class=${`verdict-${a.before}`}>${a.before}</td><td class=${`verdict-${a.after}`}>${a.after}</td><td>${a.reasons.join('; ')}</td></tr>`)}</tbody></table>` : null}
      ${!preview.unchanged && change_ ? html`<form class="row" aria-label="Roll out" onSubmit=${(e: Event) => { e.preventDefault(); rollOut(); }}>
        <label>Reason <input value=${reason} size="40" onInput=${(e: Event) => setReason((e.target as HTMLInputElement).value)} /></label>
        <button type="submit" class="primary">Roll out version ${preview.policy.version}</button></form>` : null}
      ${!change_ ? html`<p class="note">Your role (${me.role}) cannot roll out a policy.</p>` : null}
    </section>` : null}
  </section>`;
}
