import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { rememberVerifiedDaprCall, wasVerifiedDaprCall } from './verified-dapr-call.js';

const httpContext = (request: object) => {
  const context = new ExecutionContextHost([request, {}]);
  context.setType('http');
  return context;
};

describe('the mark of a verified Dapr call', () => {
  it('is on the request it was given, and on no other', () => {
    const request = { headers: {} };
    rememberVerifiedDaprCall(httpContext(request));
    expect(wasVerifiedDaprCall(httpContext(request))).toBe(true);
    expect(wasVerifiedDaprCall(httpContext({ headers: {} }))).toBe(false);
  });

  it('cannot come from what a client sends: string keys, a parsed JSON body, a prototype-polluting key', () => {
    const parsed = JSON.parse(
      '{"headers":{},"nestjs-dapr-auth:verified-dapr-call":true,"Symbol(nestjs-dapr-auth:verified-dapr-call)":true,"__proto__":{"verified":true}}',
    ) as object;
    expect(wasVerifiedDaprCall(httpContext(parsed))).toBe(false);
  });

  it('is kept for a frozen request too, without an error', () => {
    const frozen = Object.freeze({ headers: {} });
    expect(() => rememberVerifiedDaprCall(httpContext(frozen))).not.toThrow();
    expect(wasVerifiedDaprCall(httpContext(frozen))).toBe(true);
    expect(wasVerifiedDaprCall(httpContext(Object.freeze({ headers: {} })))).toBe(false);
  });
});
