// Alerts and notices as they happen: polled every 2 s for ids above the last seen (the back end
// keeps no connection per browser), filterable by type and device; new ones announced politely.
import { useState, useEffect, useRef } from 'preact/hooks';
import { api, query } from './api.ts';
import { html, time, ErrorLine } from './ui.ts';

const TYPES = ['THREAT_ALERT', 'DEVICE_SUSPENDED', 'ATTESTATION_REQUIRED', 'DEVICE_REACTIVATED', 'POLICY_UPDATE'];
export const POLL_MS = 2000;

interface Notice { id: number; deviceId: string; type: string; reason: string; createdMs: number; policyVersion: number; delivered: boolean }

export function Alerts({ openDevice }: { openDevice: (id: string) => void }) {
  const [types, setTypes] = useState<string[]>([]);
  const [device, setDevice] = useState('');
  const [items, setItems] = useState<Notice[]>([]);
  const [error, setError] = useState('');
  const last = useRef(0);
  useEffect(() => {
    last.current = 0;
    setItems([]);
    let stopped = false;
    const poll = async () => {
      try {
        const fresh = await api<Notice[]>('GET', `alerts${query({ after: last.current || undefined, device, type: types.join(',') })}`);
        if (stopped) return;
        if (fresh.length) {
          last.current = Math.max(last.current, ...fresh.map((n) => n.id));
          setItems((old) => [...fresh, ...old].slice(0, 500));
        }
        setError('');
      } catch (e) { if (!stopped) setError((e as Error).message); }
    };
    poll();
    const timer = setInterval(poll, POLL_MS);
    return () => { stopped = true; clearInterval(timer); };
  }, [types.join(','), device]);
  const toggle = (t: string) => setTypes(types.includes(t) ? types.filter((x) => x !== t) : [...types, t]);
  return html`<section aria-labelledby="alerts-h">
    <h2 id="alerts-h">Alerts and notices</h2>
    <form class="row" aria-label="Filter alerts" onSubmit=${(e: Event) => e.preventDefault()}>
      <fieldset class="row"><legend>Types (none = all)</legend>
        ${TYPES.map((t) => html`<label class="check"><input type="checkbox" checked=${types.includes(t)} onChange=${() => toggle(t)} /> ${t}</label>`)}
      </fieldset>
      <label>Device <input value=${device} onChange=${(e: Event) => setDevice((e.target as HTMLInputElement).value.trim())} placeholder="dev-…" /></label>
    </form>
    <${ErrorLine} error=${error} />
    <p class="note">Updated every ${POLL_MS / 1000} s.</p>
    <table aria-label="Alerts and notices"><thead><tr><th scope="col">Time</th><th scope="col">Type</th><th scope="col">Device</th><th scope="col">Reason</th><th scope="col">Delivered to the device</th></tr></thead>
      <tbody aria-live="polite">${items.map((n) => html`<tr>
        <td>${time(n.createdMs)}</td><td>${n.type}</td>
        <td><button type="button" class="code" aria-label=${`Open device ${n.deviceId}`} onClick=${() => openDevice(n.deviceId)}>${n.deviceId}</button></td>
        <td>${n.reason}</td><td>${n.delivered ? 'yes' : 'not yet'}</td></tr>`)}</tbody></table>
    ${items.length === 0 ? html`<p class="note">No alert matches.</p>` : null}
  </section>`;
}
