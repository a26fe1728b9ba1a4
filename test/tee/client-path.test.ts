// The client → TEE path's promises (issue 15: every turn of the microtask queue is paid on every
// command): the in-process driver hands back a ready answer as a settled promise; the client's
// invoke fails by rejecting, never by throwing; request() leaves the caller's body as it was.
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TeeRuntime, InProcessTeeDriver, loadTaImages } from '../../tee/index.ts';
import { TeeContext, TeeError } from '../../ree/tee-client/index.ts';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { Status } from '../../proto/status.ts';

const v1 = trusttap.tee.v1;

describe('client path', () => {
  let rt: TeeRuntime;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tt-cpath-'));
    rt = await TeeRuntime.start({ tas: loadTaImages({ only: ['keystore'] }).images, dataDir: dir });
  }, 120_000);
  afterAll(() => { rt?.shutdown(); rmSync(dir, { recursive: true, force: true }); });

  test('the driver answers an invoke with a promise that is already settled', async () => {
    const driver = new InProcessTeeDriver(rt);
    const open = v1.ClientResponse.decode(await driver.exchange(v1.ClientRequest.encode({ id: 1, openSession: { name: 'keystore' } }).finish()));
    expect(open.status).toBe(Status.SUCCESS);
    const order: string[] = [];
    const answer = driver.exchange(v1.ClientRequest.encode({ id: 2, invoke: { session: open.session, command: 0 } }).finish());
    void answer.then(() => order.push('answer'));
    // A callback on a settled promise runs in the first turn; an async chain would need more.
    await Promise.resolve();
    order.push('one turn');
    expect(order).toEqual(['answer', 'one turn']);
    const res = v1.ClientResponse.decode(await answer);
    expect(res.id).toBe(2);
    expect(v1.PingResponse.decode(res.payload).name).toBe('keystore');
  });

  test('a malformed request and a non-invoke request are answered as before', async () => {
    const driver = new InProcessTeeDriver(rt);
    const bad = v1.ClientResponse.decode(await driver.exchange(Uint8Array.of(0xff, 0xff, 0xff)));
    expect(bad.status).toBe(Status.ERROR_BAD_FORMAT);
    const none = v1.ClientResponse.decode(await driver.exchange(v1.ClientRequest.encode({ id: 5 }).finish()));
    expect(none.status).toBe(Status.ERROR_BAD_PARAMETERS);
    expect(none.id).toBe(5);
  });

  test('invoke on a closed session rejects (it does not throw), and request() does not touch its argument', async () => {
    const ctx = await TeeContext.initialize(new InProcessTeeDriver(rt));
    const s = await ctx.openSession('keystore');
    expect((await s.ping()).name).toBe('keystore');
    const body = { invoke: { session: s.id, command: 0 } };
    const res = await ctx.request(body);
    expect(res.status).toBe(Status.SUCCESS);
    expect(body).toEqual({ invoke: { session: s.id, command: 0 } });
    await s.close();
    let pending: Promise<Uint8Array> | undefined;
    expect(() => { pending = s.invoke(0); }).not.toThrow();
    const err = await pending!.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TeeError);
    expect((err as TeeError).status).toBe(Status.ERROR_BAD_STATE);
    await ctx.finalize();
  });
});
