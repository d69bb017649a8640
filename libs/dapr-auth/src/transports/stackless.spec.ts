import { ForbiddenException, HttpException, UnauthorizedException } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { rejectionMaker } from './stackless.js';

describe('rejectionMaker', () => {
  it('makes new exceptions that read like the real one: class, response, status, message, name', () => {
    const make = rejectionMaker(() => new UnauthorizedException());
    const real = new UnauthorizedException();
    const copy = make();
    expect(copy).toBeInstanceOf(UnauthorizedException);
    expect(copy).toBeInstanceOf(HttpException);
    expect(copy).toBeInstanceOf(Error);
    expect(copy.getResponse()).toEqual(real.getResponse());
    expect(copy.getStatus()).toBe(401);
    expect([copy.message, copy.name]).toEqual([real.message, real.name]);
    expect(copy.stack).toBe('UnauthorizedException: Unauthorized'); // one line: no frames
    expect(rejectionMaker(() => new ForbiddenException())().getResponse()).toEqual({ message: 'Forbidden', statusCode: 403 });
  });

  it('gives every copy its own response body: a filter that adds to one never changes the next', () => {
    const make = rejectionMaker(() => new UnauthorizedException());
    const first = make();
    (first.getResponse() as Record<string, unknown>).path = '/secret-route';
    first.message = 'changed';
    const second = make();
    expect(second).not.toBe(first);
    expect(second.getResponse()).toEqual({ message: 'Unauthorized', statusCode: 401 });
    expect(second.message).toBe('Unauthorized');
  });

  it("copies an RpcException's error object too", () => {
    const make = rejectionMaker(() => new RpcException({ code: 16, message: 'Unauthorized' }));
    const first = make();
    (first.getError() as Record<string, unknown>).code = 2;
    expect(make().getError()).toEqual({ code: 16, message: 'Unauthorized' });
    expect(make()).toBeInstanceOf(RpcException);
  });

  it('writes the copies with ownFields when they equal the template, each copy its own', () => {
    let writes = 0;
    const make = rejectionMaker(
      () => new UnauthorizedException(),
      (rejection) => {
        writes++;
        rejection.response = { message: 'Unauthorized', statusCode: 401 };
        rejection.options = {};
      },
    );
    const first = make();
    const second = make();
    expect(writes).toBe(3); // one check at build time, then one per copy
    expect(first.getResponse()).toEqual({ message: 'Unauthorized', statusCode: 401 });
    expect(first.getResponse()).not.toBe(second.getResponse());
  });

  it.each([
    ['different contents', (rejection: Record<string, unknown>) => ((rejection.response = { message: 'Nope', statusCode: 401 }), (rejection.options = {}))],
    ['a field missing', (rejection: Record<string, unknown>) => void (rejection.response = { message: 'Unauthorized', statusCode: 401 })],
    [
      'a field too many',
      (rejection: Record<string, unknown>) => (
        (rejection.response = { message: 'Unauthorized', statusCode: 401 }),
        (rejection.options = {}),
        (rejection.extra = {})
      ),
    ],
  ])('ignores ownFields that write %s, and copies the template instead', (_case, ownFields) => {
    const copy = rejectionMaker(() => new UnauthorizedException(), ownFields)();
    expect(copy.getResponse()).toEqual({ message: 'Unauthorized', statusCode: 401 });
    expect(Object.keys(copy).sort()).toEqual(['options', 'response']);
  });

  it('leaves Error.stackTraceLimit as it was', () => {
    const before = Error.stackTraceLimit;
    rejectionMaker(() => new UnauthorizedException());
    expect(Error.stackTraceLimit).toBe(before);
  });
});
