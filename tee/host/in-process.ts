// In-process isolation: the TA's Wasm instance runs on the runtime's own thread. Memory
// isolation is Wasm's (a TA sees only its linear memory); a runaway loop cannot be stopped
// here, so deployments that need a watchdog use worker isolation.
import type { TaHost } from './ta-host.ts';
import { TaInstance, TaDeadError, type TaReply } from '../instance.ts';
import type { HostServices } from '../abi/context.ts';

export class InProcessTaHost implements TaHost {
  private instance: TaInstance | null = null;
  private deadReason: string | null = null;

  constructor(private readonly module: WebAssembly.Module, private readonly services: HostServices) {}

  get dead(): string | null {
    return this.deadReason ?? this.instance?.dead ?? null;
  }

  create(): number {
    try {
      const { instance, status } = TaInstance.create(this.module, this.services);
      this.instance = instance;
      return status;
    } catch (e) {
      this.deadReason = (e as Error).message;
      throw e instanceof TaDeadError ? e : new TaDeadError(`instantiation failed: ${(e as Error).message}`);
    }
  }

  private live(): TaInstance {
    if (!this.instance || this.dead) throw new TaDeadError(this.dead ?? 'TA not created');
    return this.instance;
  }

  openSession(session: number, login: number, client: Uint8Array): number {
    return this.live().openSession(session, login, client);
  }

  invoke(session: number, command: number, input: Uint8Array): TaReply {
    return this.live().invoke(session, command, input);
  }

  closeSession(session: number): void {
    this.live().closeSession(session);
  }

  tuiEvent(session: number, kind: number, position: number): TaReply {
    return this.live().tuiEvent(session, kind, position);
  }

  destroy(): void {
    this.instance?.destroy();
    this.instance = null;
  }
}
