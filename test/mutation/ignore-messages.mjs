// A Stryker ignorer (npm run mutation): the human-readable message of a typed error is not a
// decision — the error's code and field are, and the tests pin those. So mutants inside the
// message argument of these constructors and helpers are not counted (Stryker reports them as
// ignored, with this reason). Anything else in the same call (code, field, condition) is mutated.
import { declareValuePlugin, PluginKind } from '@stryker-mutator/api/plugin';

/** callee name → index of its message argument */
const MESSAGE_ARG = {
  QrError: 1, TlvError: 1, TransactionError: 0, KernelError: 1, Track2Error: 0, OdaError: 1,
  fail: 2, // consumer-presented.ts fail(code, field, message)
  need: 2, // merchant-presented.ts need(condition, field, message)
  ApiError: 2, malformed: 0, badSignature: 0, unknownDevice: 0, replay: 0, // backend/errors.ts: (http, code, message) and its helpers
};

const calleeName = (n) => (n.type === 'Identifier' ? n.name : undefined);

export const strykerPlugins = [
  declareValuePlugin(PluginKind.Ignore, 'typed-error-messages', {
    shouldIgnore(path) {
      const parent = path.parentPath;
      if (!parent || path.listKey !== 'arguments') return undefined;
      if (!parent.isNewExpression() && !parent.isCallExpression()) return undefined;
      const i = MESSAGE_ARG[calleeName(parent.node.callee)];
      return i === path.key ? 'the message text of a typed error (its code and field are tested)' : undefined;
    },
  }),
];
