import { adaptersByContextType } from '../dapr-auth.guard.js';
import type { TransportAdapter } from './transport-adapter.js';

const adapter = (transport: string, contextType?: string) => ({ transport, contextType }) as TransportAdapter;

describe('adaptersByContextType (the guard finds an adapter by the context type alone)', () => {
  it('maps each leading adapter that declares its one context type, the first one of a type winning', () => {
    const http = adapter('HTTP', 'http');
    const byType = adaptersByContextType([http, adapter('second HTTP', 'http'), adapter('gRPC', 'rpc')]);
    expect([...byType.entries()].map(([type, found]) => [type, found.transport])).toEqual([
      ['http', 'HTTP'],
      ['rpc', 'gRPC'],
    ]);
  });

  it('stops at the first adapter without a context type: it is asked first and may claim any type', () => {
    const byType = adaptersByContextType([adapter('HTTP', 'http'), adapter('GraphQL'), adapter('late', 'rpc')]);
    expect([...byType.keys()]).toEqual(['http']);
    expect(adaptersByContextType([adapter('custom'), adapter('HTTP', 'http')]).size).toBe(0);
  });
});
