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

describe('the mark of a verified Dapr call in GraphQL', () => {
  class OrdersResolver {}
  class AdminResolver {}
  const resolve = (gqlContext: object, handler: () => unknown, resolver: object = OrdersResolver) => {
    const context = new ExecutionContextHost([{}, {}, gqlContext, {}], resolver as never, handler);
    context.setType('graphql');
    return context;
  };
  const ping = () => 'pong';
  const orders = () => [];

  // One context serves every field of an operation; a field whose own check passed does not make
  // another field's request verified (its caller rule may have refused it: third outside review).
  it('names the resolvers whose check passed, not the whole operation', () => {
    const gqlContext = { req: { headers: {} } };
    rememberVerifiedDaprCall(resolve(gqlContext, ping));
    expect(wasVerifiedDaprCall(resolve(gqlContext, ping))).toBe(true);
    expect(wasVerifiedDaprCall(resolve(gqlContext, orders))).toBe(false);
    rememberVerifiedDaprCall(resolve(gqlContext, orders));
    expect(wasVerifiedDaprCall(resolve(gqlContext, orders))).toBe(true);
    expect(wasVerifiedDaprCall(resolve({ req: { headers: {} } }, ping))).toBe(false);
  });

  it('names the method with its class: one inherited method may serve classes of other rules', () => {
    const gqlContext = { req: { headers: {} } };
    rememberVerifiedDaprCall(resolve(gqlContext, ping, OrdersResolver));
    expect(wasVerifiedDaprCall(resolve(gqlContext, ping, OrdersResolver))).toBe(true);
    expect(wasVerifiedDaprCall(resolve(gqlContext, ping, AdminResolver))).toBe(false);
  });

  it('a frozen context too', () => {
    const gqlContext = Object.freeze({ req: { headers: {} } });
    rememberVerifiedDaprCall(resolve(gqlContext, ping));
    expect(wasVerifiedDaprCall(resolve(gqlContext, ping))).toBe(true);
    expect(wasVerifiedDaprCall(resolve(gqlContext, orders))).toBe(false);
  });
});
