// Visa CVN 22 (VIS 1.6): the AC/ARPC chain and the issuer-script secure messaging, checked with
// pyemv's HSM-verified values (test/vectors/fixtures/visa-cvn22.json, expected values unchanged
// from pyemv's tests/test_cvn_hsm.py) through the vector runner, as the published files would
// be. The end-to-end approval of a CVN 22 card is in test/backend/authorization.test.ts.
import { describe, expect, test } from 'vitest';
import { loadOps, readVectorFile, runVectors, type Vector } from '../vectors/runner.ts';
import { cvnProfile } from '../../backend/issuer/cvn.ts';
import { pinChangeBlock, type ScriptCard } from '../../backend/issuer/issuer-script.ts';
import { PinError } from '../../backend/issuer/ta-lib.ts';
import { hex, unhex } from '../../backend/issuer/util.ts';

const FIXTURE = new URL('../vectors/fixtures/visa-cvn22.json', import.meta.url).pathname;
const ops = await loadOps();
const file = () => readVectorFile(FIXTURE);
const vector = (id: string): Vector => structuredClone(file().vectors.find((v) => v.id === id)!);
const run = (...vs: Vector[]) => runVectors({ family: 't', vectors: vs }, ops);

describe('Visa CVN 22', () => {
  test('every pyemv CVN 22 value passes, the chain naming only the CVN included', async () => {
    const r = await runVectors(file(), ops);
    expect(r.failures).toEqual([]);
    expect([r.passed, r.skipped]).toEqual([3, 0]);
    expect(Object.keys(vector('cvn22').inputs).sort()).toEqual(['csu', 'cvn', 'iss_mk_ac', 'iss_mk_smc', 'iss_mk_smi', 'pan', 'psn', 'tags']);
  });

  test('with id, source and note blanked the same vectors pass', async () => {
    const blanked = file().vectors.map((v) => ({ ...structuredClone(v), id: '', source: '', note: '' }));
    const r = await run(...blanked);
    expect([r.passed, r.failed]).toEqual([3, 0]);
  });

  test('the table decides: the same script chain under CVN 18 gives other keys, MACs and PIN commands', async () => {
    const v = vector('sm-cvn22');
    v.inputs.cvn = 'visa-18';
    const r = await run(v);
    expect(r.failures.map((f) => f.field).sort()).toEqual(['command_mac', 'pin_change_command_no_current_pin', 'pin_change_command_with_current_pin_8888', 'sk_smc_kcv', 'sk_smi_kcv']);
  });

  test('a stated input that contradicts the CVN 22 profile is an error naming it', async () => {
    const v = vector('cvn22-stated');
    v.inputs.arpc_method = '1';
    const r = await run(v);
    expect(String(r.failures[0]!.got)).toMatch(/CVN table disagrees with vector on arpc_method \(table 2, vector 1\)/);
  });

  test('PIN change: ISO 9564 format 2 without the current PIN, the VIS block with it; M/Chip refuses a current PIN', () => {
    const card: ScriptCard = {
      cvn: 'visa-22', pan: '1234567890123456', psn: '00', atc: unhex('001C'), arqc: unhex('7A788EA6B8A3E733'),
      issuerMasterKeySmi: unhex('FEDCBA98765432100123456789ABCDEF'), issuerMasterKeyAc: unhex('0123456789ABCDEFFEDCBA9876543210'),
    };
    expect(hex(pinChangeBlock(card, '9999'))).toBe('249999FFFFFFFFFF');
    const vis = pinChangeBlock(card, '9999', '8888');
    expect(hex(vis)).not.toBe('249999FFFFFFFFFF');
    expect(hex(vis)).toBe(hex(pinChangeBlock({ ...card, cvn: 'visa-18' }, '9999', '8888')));
    expect(() => pinChangeBlock({ ...card, cvn: 'mastercard-16' }, '9999', '8888')).toThrow(PinError);
    expect([cvnProfile('visa-22').cvnByte, cvnProfile('visa-22').cvnInIad]).toEqual([0x22, 1]);
  });
});
