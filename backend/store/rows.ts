// Table rows to the Repository's records, shared by the SQLite and PostgreSQL stores (both use the
// same column names; SQLite gives BLOBs and 0/1, PostgreSQL Buffers and booleans).
import type { DeviceRow, QrOrderRow, PaymentRow, CardAccountRow, OperatorRow, AcquirerRow, ConsoleSessionRow, ClientReleaseRow } from './repository.ts';

/** DeviceRow fields to device columns (updateDevice builds its SET list from these names only). */
export const DEVICE_COLUMNS: Record<string, string> = {
  merchantId: 'merchant_id', terminalId: 'terminal_id', state: 'state', stateReason: 'state_reason',
  activationHash: 'activation_hash', activationExpiresMs: 'activation_expires_ms', publicKey: 'public_key',
  oemSerial: 'oem_serial', lastCounter: 'last_counter', lastContactMs: 'last_contact_ms',
  lastHeartbeatMs: 'last_heartbeat_ms', lastAttestationMs: 'last_attestation_ms', lastVerdict: 'last_verdict',
  attestationRequired: 'attestation_required', reeDeviceId: 'ree_device_id', lastIp: 'last_ip',
  lastLatE6: 'last_lat_e6', lastLonE6: 'last_lon_e6',
};

export function toDevice(r: any): DeviceRow | null {
  if (!r) return null;
  return {
    deviceId: r.device_id, acquirerId: r.acquirer_id, merchantId: r.merchant_id, terminalId: r.terminal_id, state: r.state,
    stateReason: r.state_reason, activationHash: r.activation_hash, activationExpiresMs: r.activation_expires_ms,
    publicKey: new Uint8Array(r.public_key), oemSerial: r.oem_serial, lastCounter: r.last_counter,
    lastContactMs: r.last_contact_ms, lastHeartbeatMs: r.last_heartbeat_ms, lastAttestationMs: r.last_attestation_ms,
    lastVerdict: r.last_verdict, attestationRequired: !!r.attestation_required, reeDeviceId: r.ree_device_id,
    lastIp: r.last_ip, lastLatE6: r.last_lat_e6, lastLonE6: r.last_lon_e6, createdMs: r.created_ms,
  };
}

export function toQrOrder(r: any): QrOrderRow | null {
  if (!r) return null;
  return {
    deviceId: r.device_id, clientTransactionId: r.client_transaction_id, reference: r.reference, payload: r.payload, amountMinor: r.amount_minor,
    currency: r.currency, state: r.state, createdMs: r.created_ms, expiresMs: r.expires_ms, updatedMs: r.updated_ms, payerHash: r.payer_hash,
  };
}

export function toPayment(r: any): PaymentRow | null {
  if (!r) return null;
  return {
    deviceId: r.device_id, clientTransactionId: r.client_transaction_id, reference: r.reference, recordSha256: r.record_sha256,
    recordCounter: r.record_counter, type: r.type, amountMinor: r.amount_minor, currency: r.currency, accountDelta: r.account_delta,
    panHash: r.pan_hash, decision: r.decision, reason: r.reason, response: new Uint8Array(r.response), createdMs: r.created_ms, reversedMs: r.reversed_ms,
  };
}

export function toCardAccount(r: any): CardAccountRow | null {
  if (!r) return null;
  return {
    panHash: r.pan_hash, maskedPan: r.masked_pan, scheme: r.scheme, cvn: r.cvn, imkId: r.imk_id, currency: r.currency, balanceMinor: r.balance_minor,
    status: r.status, expiry: r.expiry, pvv: new Uint8Array(r.pvv), pvkId: r.pvk_id, pinTries: r.pin_tries, pinTryLimit: r.pin_try_limit, lastAtc: r.last_atc,
  };
}

/** CardAccountRow fields updateCardAccount may set, to columns. */
export const ACCOUNT_COLUMNS: Record<string, string> = { balanceMinor: 'balance_minor', status: 'status', pinTries: 'pin_tries', lastAtc: 'last_atc' };

export function toOperator(r: any): OperatorRow | null {
  if (!r) return null;
  return { username: r.username, acquirerId: r.acquirer_id, role: r.role, passwordHash: r.password_hash, createdMs: r.created_ms, disabled: !!r.disabled };
}

export function toConsoleSession(r: any): ConsoleSessionRow | null {
  if (!r) return null;
  return { tokenHash: r.token_hash, username: r.username, acquirerId: r.acquirer_id, role: r.role, createdMs: r.created_ms, expiresMs: r.expires_ms };
}

export function toAcquirer(r: any): AcquirerRow | null {
  if (!r) return null;
  return { acquirerId: r.acquirer_id, name: r.name, adminTokenHash: r.admin_token_hash, route: r.route, upstreamUrl: r.upstream_url ?? '', limits: r.limits, createdMs: r.created_ms };
}

export function toClientRelease(r: any): ClientReleaseRow {
  return {
    acquirerId: r.acquirer_id, name: r.name, version: r.version, sha256: r.sha256, allowed: !!r.allowed,
    allowedMs: Number(r.allowed_ms), revokedMs: Number(r.revoked_ms), reason: r.reason,
  };
}
