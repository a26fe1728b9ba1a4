// The transaction journal: search by reference, client transaction id, device, outcome and
// date range; one transaction's detail (masked PAN only — the back end has nothing else to
// give); reversal of an approval, with a reason.
import { useState } from 'preact/hooks';
import { api, query } from './api.ts';
import { html, time, ErrorLine, canChange, type Me } from './ui.ts';

const ms = (v: FormDataEntryValue | null) => (v ? String(Date.parse(`${String(v)}:00Z`)) : '');

export function Journal({ me, openDevice }: { me: Me; openDevice: (id: string) => void }) {
  const [rows, setRows] = useState<any[] | null>(null);
  const [open, setOpen] = useState<any>(null);
  const [error, setError] = useState('');
  const search = async (e?: Event) => {
    e?.preventDefault();
    const f = new FormData(document.getElementById('journal-search') as HTMLFormElement);
    setError('');
    try {
      setRows(await api('GET', `payments${query({
        reference: String(f.get('reference') ?? '').trim(), ctid: String(f.get('ctid') ?? '').trim(), device: String(f.get('device') ?? '').trim(),
        outcome: String(f.get('outcome') ?? ''), from: ms(f.get('from')), to: ms(f.get('to')),
      })}`));
    } catch (x) { setError((x as Error).message); }
  };
  return html`<section aria-labelledby="journal-h">
    <h2 id="journal-h">Transaction journal</h2>
    <form id="journal-search" class="row" role="search" aria-label="Search the journal" onSubmit=${search}>
      <label>Reference <input name="reference" /></label>
      <label>Client transaction id <input name="ctid" /></label>
      <label>Device <input name="device" /></label>
      <label>Outcome <select name="outcome"><option value="">any</option><option value="approved">approved</option><option value="declined">declined</option><option value="reversed">reversed</option></select></label>
      <label>From (UTC) <input name="from" type="datetime-local" /></label>
      <label>To (UTC) <input name="to" type="datetime-local" /></label>
      <button type="submit" class="primary">Search</button>
    </form>
    <${ErrorLine} error=${error} />
    ${rows ? html`<table aria-label="Journal results"><thead><tr><th scope="col">Time</th><th scope="col">Reference</th><th scope="col">Client transaction id</th><th scope="col">Device</th><th scope="col">Amount</th><th scope="col">Outcome</th></tr></thead>
      <tbody>${rows.map((p) => html`<tr>
        <td>${time(p.createdMs)}</td>
        <td><button type="button" class="code" aria-label=${`Open payment ${p.reference}`} onClick=${() => setOpen(p)}>${p.reference}</button></td>
        <td class="code">${p.clientTransactionId}</td>
        <td><button type="button" class="code" aria-label=${`Open device ${p.deviceId}`} onClick=${() => openDevice(p.deviceId)}>${p.deviceId}</button></td>
        <td>${p.amount}</td>
        <td class=${`outcome-${p.outcome}`} data-testid="payment-outcome">${p.outcome}${p.outcome === 'declined' ? ` (${p.reason})` : ''}</td></tr>`)}</tbody></table>
      ${rows.length === 0 ? html`<p class="note">No payment matches.</p>` : null}` : null}
    ${open ? html`<${Payment} key=${open.reference} p=${open} me=${me} onChanged=${(p: any) => { setOpen(p); search(); }} />` : null}
  </section>`;
}

function Payment({ p, me, onChanged }: { p: any; me: Me; onChanged: (p: any) => void }) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState('');
  const reverse = async () => {
    setError('');
    try { onChanged(await api('POST', `payments/${encodeURIComponent(p.deviceId)}/${encodeURIComponent(p.clientTransactionId)}/reverse`, { reason })); } catch (x) { setError((x as Error).message); }
  };
  return html`<section class="card" aria-labelledby="payment-h" data-testid="payment-detail">
    <h3 id="payment-h">Payment <span class="code">${p.reference}</span></h3>
    <dl class="kv">
      <dt>Time</dt><dd>${time(p.createdMs)}</dd>
      <dt>Type / amount</dt><dd>${p.type} ${p.amount}</dd>
      <dt>Card</dt><dd class="code">${p.maskedPan || '—'}</dd>
      <dt>Outcome</dt><dd class=${`outcome-${p.outcome}`}>${p.outcome}${p.reversedMs ? ` at ${time(p.reversedMs)}` : ''}</dd>
      <dt>Reason</dt><dd>${p.reason} — ${p.reasonText}</dd>
      <dt>Response / authorization code</dt><dd>${p.responseCode} / ${p.authorizationCode || '—'}</dd>
      <dt>Device / client transaction id</dt><dd class="code">${p.deviceId} / ${p.clientTransactionId}</dd>
      ${p.qrMode ? html`<dt>QR</dt><dd>${p.qrMode}</dd>` : null}
    </dl>
    ${p.outcome === 'approved' && canChange(me) ? html`<form class="row" aria-label="Reverse the payment" onSubmit=${(e: Event) => { e.preventDefault(); reverse(); }}>
      <label>Reason for the reversal <input value=${reason} size="40" onInput=${(e: Event) => setReason((e.target as HTMLInputElement).value)} /></label>
      <button type="submit" class="danger">Reverse</button>
    </form>` : null}
    <${ErrorLine} error=${error} />
  </section>`;
}
