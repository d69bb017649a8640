import { DaprAuthStatus } from './dapr-auth.status.js';
import { StaticTokenSource } from '../tokens/static-token-source.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('DaprAuthStatus: a rotation you can see finish', () => {
  it('reports previous-token use per interval, then once that the rotation can be completed', async () => {
    const lines: string[] = [];
    const source = new StaticTokenSource(['new-token-value-0123456789', 'old-token-value-0123456789']);
    const status = new DaprAuthStatus(source, 60, { log: (line: string) => lines.push(line), warn: (line: string) => lines.push(line) } as never, 25);
    status.start();
    try {
      expect(status.rotationInProgress).toBe(true);
      for (let i = 0; i < 3; i++) status.accepted('HTTP', 'previous');
      status.accepted('HTTP', 'current');
      expect(status.previousTokenUses).toBe(3);
      expect(status.lastPreviousTokenUse).toBeInstanceOf(Date);
      expect(status.rotationCanComplete).toBe(false);
      await sleep(40);
      expect(lines[0]).toBe('Token rotation: 3 request(s) used a previous token in the last 0 s.');
      await sleep(120);
      expect(status.rotationCanComplete).toBe(true);
      const completion = lines.filter((line) => line.includes('The rotation can be completed'));
      expect(completion).toHaveLength(1); // once, not every interval
      expect(completion[0]).toContain('no request has used a previous token for 0 s');
    } finally {
      status.stop();
    }
  });

  it('says nothing without a rotation, and counts decisions', async () => {
    const lines: string[] = [];
    const status = new DaprAuthStatus(new StaticTokenSource(['only-token-value-0123456789']), 10, { log: (line: string) => lines.push(line) } as never, 10);
    status.start();
    status.accepted('HTTP', 'current');
    status.decision('gRPC', 'rejected');
    await sleep(40);
    status.stop();
    expect(lines).toEqual([]);
    expect(status.rotationInProgress).toBe(false);
    expect(status.rotationCanComplete).toBe(false);
    expect(status.decisions).toEqual({ accepted: 1, rejected: 1, exempt: 0, public: 0, deferred: 0 });
  });
});
