import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { DEFAULT_DAPR_VERSION } from '../../scripts/dapr/install-daprd.mjs';
import {
  ensureSecretVolumeWriter,
  KUBERNETES_VERSION,
  secretVolumeWriterVersion,
  startSecretVolumeWriter,
  type SecretVolumeSource,
} from '../../scripts/dapr/secret-volume.mjs';
import { KubeletAtomicWriter } from '../support/atomic-writer.js';
import { callUnary, tokenMetadata } from '../support/grpc.js';
import { startGrpcAppWithClient } from '../support/grpc-test-app.js';
import { HTTP_PLATFORMS, send, startHttpApp } from '../support/http.js';
import { httpTestModuleWith } from '../support/http-test-app.js';
import { registerSecret } from '../support/secrets.js';
import { WRONG_TOKEN } from '../support/tokens.js';

/**
 * The kubelet's own Secret volume writer (issue 31, item 3): k8s.io/kubernetes' MakePayload and
 * AtomicWriter, built as a Go module dependency (scripts/dapr/secret-volume.mjs, built by the suite's
 * global setup). It checks the TypeScript copy the default suite rotates with
 * (test/support/atomic-writer.ts: rotation.e2e-spec.ts, FileTokenSource's spec) against the real
 * thing, and rotates a guard app's token file with it while requests flow.
 */
const binary = ensureSecretVolumeWriter({ log: () => undefined });

const TOKENS = [
  'k0Vd7Qm2Rx9Lp4Tz8Wn3Hb6Jc1Fs5Gy0Ue7Ka2Mq',
  'k1Xe8Rn3Sy0Mq5Ua9Xo4Jc7Kd2Gt6Hz1Vf8Lb3Nr',
  'k2Yf9So4Tz1Nr6Vb0Yp5Kd8Le3Hu7Ja2Wg9Mc4Os',
  'k3Zg0Tp5Ua2Os7Wc1Zq6Le9Mf4Iv8Kb3Xh0Nd5Pt',
];
const CA = 'k9-not-a-token-but-a-second-key-of-the-Secret';
registerSecret(...TOKENS, CA);

const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** `..2026_12_02_20_17_14.746335099`: os.MkdirTemp(dir, time.Now().UTC().Format("..2006_01_02_15_04_05.")). */
const TIMESTAMPED = /^\.\.(\d{4})_(\d\d)_(\d\d)_(\d\d)_(\d\d)_(\d\d)\.\d+$/;

type Entry = { name: string; link?: string; mode?: string; sha256?: string; entries?: Entry[] };

/** The directory as a comparable tree: timestamped names replaced by `<timestamped>`, contents by their hash (never printed). */
function layout(dir: string): Entry[] {
  return readdirSync(dir)
    .sort()
    .map((name) => {
      const path = join(dir, name);
      const stat = lstatSync(path);
      const shown = TIMESTAMPED.test(name) ? '<timestamped>' : name;
      const mode = (stat.mode & 0o7777).toString(8);
      if (stat.isSymbolicLink()) {
        const target = readlinkSync(path);
        return { name: shown, link: TIMESTAMPED.test(target) ? '<timestamped>' : target };
      }
      if (stat.isDirectory()) return { name: shown, mode, entries: layout(path) };
      return { name: shown, mode, sha256: createHash('sha256').update(readFileSync(path)).digest('hex') };
    });
}

/** A Secret volume source's files and mode as the TypeScript copy takes them (one mode for all). */
function payloadFor(data: Record<string, string>, volume: SecretVolumeSource): { files: Record<string, string>; mode: number } {
  const mode = volume.defaultMode ?? 0o644; // the API server's default (SecretVolumeSourceDefaultMode)
  if (!volume.items) return { files: { ...data }, mode };
  return { files: Object.fromEntries(volume.items.map((item) => [item.path, data[item.key]])), mode };
}

describe(`the kubelet's Secret volume writer (k8s.io/kubernetes ${KUBERNETES_VERSION}), built as a Go module dependency`, () => {
  it(`is built from k8s.io/kubernetes ${KUBERNETES_VERSION}, the release of the client-go that dapr/dapr ${DEFAULT_DAPR_VERSION} builds with`, () => {
    expect(secretVolumeWriterVersion(binary)).toBe(`k8s.io/kubernetes ${KUBERNETES_VERSION}`);
    const dapr = JSON.parse(execFileSync('go', ['mod', 'download', '-json', `github.com/dapr/dapr@${DEFAULT_DAPR_VERSION}`], { encoding: 'utf8' }));
    const clientGo = /^\s*k8s\.io\/client-go (v\S+)$/m.exec(readFileSync(join(dapr.Dir, 'go.mod'), 'utf8'))![1];
    expect(clientGo).toBe('v0.32.3');
    expect(KUBERNETES_VERSION).toBe(clientGo.replace(/^v0\./, 'v1.')); // staging modules v0.X.Y are cut from Kubernetes v1.X.Y
  });

  it('leaves the same layout as the TypeScript copy after the same writes: ..data link, timestamped directory, file links, modes, removals', async () => {
    const goDir = tempDir('kubelet-go-');
    const tsDir = tempDir('kubelet-ts-');
    const kubelet = startSecretVolumeWriter(goDir, { binary });
    const copy = new KubeletAtomicWriter(tsDir);
    // The manifests' volume (items token -> token, defaultMode 0440), then Secrets and volumes that
    // exercise the rest of Write: an unchanged payload, a second key, a key removed, a nested path.
    const manifestVolume: SecretVolumeSource = { secretName: 'app-api-token', items: [{ key: 'token', path: 'token' }], defaultMode: 0o440 };
    const steps: Array<[string, Record<string, string>, SecretVolumeSource]> = [
      ['first write', { token: TOKENS[0] }, manifestVolume],
      ['rotation', { token: TOKENS[1] }, manifestVolume],
      ['unchanged payload', { token: TOKENS[1] }, manifestVolume],
      ['every key, default mode', { token: TOKENS[2], 'ca.crt': CA }, { secretName: 'app-api-token' }],
      ['a key removed', { token: TOKENS[2] }, { secretName: 'app-api-token' }],
      ['a nested path', { token: TOKENS[3] }, { secretName: 'app-api-token', items: [{ key: 'token', path: 'nested/token' }] }],
    ];
    let previous: { go?: string; ts?: string } = {};
    try {
      for (const [step, data, volume] of steps) {
        const before = Date.now();
        const written = await kubelet.write(data, volume);
        const { files, mode } = payloadFor(data, volume);
        copy.write(files, mode);
        expect([step, written.files]).toEqual([step, Object.keys(files).sort()]);

        const goLayout = layout(goDir);
        expect([step, layout(tsDir)]).toEqual([step, goLayout]);
        // Nothing else: one timestamped directory, no ..data_tmp left behind.
        expect(goLayout.filter((entry) => entry.name === '<timestamped>')).toHaveLength(1);
        const current = { go: readlinkSync(join(goDir, '..data')), ts: readlinkSync(join(tsDir, '..data')) };
        expect(current.go).toBe(written.dataDir);
        for (const name of [current.go, current.ts]) {
          const [, year, month, day, hour, minute, second] = TIMESTAMPED.exec(name)!.map(Number);
          const stamped = Date.UTC(year, month - 1, day, hour, minute, second);
          expect(stamped).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 - 1000); // UTC, to the second
          expect(stamped).toBeLessThanOrEqual(Date.now());
        }
        // A new timestamped directory exactly when the payload changed, in both.
        const swappedGo = current.go !== previous.go;
        expect([step, current.ts !== previous.ts]).toEqual([step, swappedGo]);
        expect([step, swappedGo]).toEqual([step, step !== 'unchanged payload']);
        previous = current;
      }
    } finally {
      await kubelet.close();
    }
    // Spot checks of what the comparison covered.
    expect(layout(goDir)).toEqual([
      {
        name: '<timestamped>',
        mode: '755',
        entries: [{ name: 'nested', mode: expect.any(String), entries: [{ name: 'token', mode: '644', sha256: expect.any(String) }] }],
      },
      { name: '..data', link: '<timestamped>' },
      { name: 'nested', link: '..data/nested' },
    ]);
  });

  it('refuses what the kubelet refuses: a missing key the volume names (not optional), and a path with ..', async () => {
    const kubelet = startSecretVolumeWriter(tempDir('kubelet-go-'), { binary });
    try {
      await expect(kubelet.write({ token: TOKENS[0] }, { items: [{ key: 'missing', path: 'token' }] })).rejects.toThrow(
        'references non-existent secret key: missing',
      );
      await expect(kubelet.write({ token: TOKENS[0] }, { items: [{ key: 'missing', path: 'token' }], optional: true })).resolves.toMatchObject({ files: [] });
      await expect(kubelet.write({ token: TOKENS[0] }, { items: [{ key: 'token', path: '../token' }] })).rejects.toThrow("must not contain '..'");
    } finally {
      await kubelet.close();
    }
  });
});

describe(`a guard app following its token file while the kubelet's AtomicWriter (k8s.io/kubernetes ${KUBERNETES_VERSION}) rotates it, under load`, () => {
  const POLL_INTERVAL = 400;
  const GRACE_PERIOD = 2000;
  const MARGIN = 400;
  /** The caller (as daprd after its restart) switches to a new token this long after the swap: by then the app surely reads it. */
  const SWITCH_AFTER = POLL_INTERVAL + MARGIN;
  /** Time between rotations. */
  const ROTATE_EVERY = 1500;
  const closers: Array<() => Promise<void>> = [];

  afterAll(async () => {
    await Promise.all(closers.map((close) => close()));
  });

  it('accepts every request the caller sends across three swaps (the previous token within the grace period, the new one after a poll), refuses every wrong one, and ends the grace period', async () => {
    const dir = tempDir('kubelet-rotation-');
    const kubelet = startSecretVolumeWriter(dir, { binary });
    closers.push(() => kubelet.close());
    const volume: SecretVolumeSource = { secretName: 'app-api-token', items: [{ key: 'token', path: 'token' }], defaultMode: 0o440 };
    await kubelet.write({ token: TOKENS[0] }, volume);

    const options = {
      global: true,
      tokenFile: join(dir, 'token'),
      tokenFilePollInterval: POLL_INTERVAL,
      tokenFileGracePeriod: GRACE_PERIOD,
      logRejections: false as const,
    };
    type Call = (token: string) => Promise<{ accepted: boolean; failure?: string }>;
    const callers: Array<[string, Call]> = [];
    const [expressName, express] = HTTP_PLATFORMS[0];
    const { app, baseUrl } = await startHttpApp(httpTestModuleWith(options), express);
    closers.push(() => (app as INestApplication).close());
    callers.push([
      expressName,
      async (token) => {
        const { status } = await send(baseUrl, '/plain', { headers: { 'dapr-api-token': token } });
        return { accepted: status === 200, failure: status === 200 || status === 401 ? undefined : `HTTP ${status}` };
      },
    ]);
    const grpcApp = await startGrpcAppWithClient(options);
    closers.push(grpcApp.close);
    callers.push([
      'gRPC',
      async (token) => {
        const { code } = await callUnary(grpcApp.client, 'OnInvoke', { method: 'rotation' }, tokenMetadata(token));
        return { accepted: code === 0, failure: code === 0 || code === 16 ? undefined : `gRPC status ${code}` };
      },
    ]);

    // Token k is in the file from swaps[k] on; the caller sends it from swaps[k] + SWITCH_AFTER on.
    const swaps = [Date.now()];
    const callerToken = (now: number) => {
      let k = 0;
      for (let i = 1; i < swaps.length; i++) if (now >= swaps[i] + SWITCH_AFTER) k = i;
      return k;
    };
    const wrong: string[] = [];
    const counts = { accepted: 0, wrongRefused: 0, perTransport: {} as Record<string, number> };
    let running = true;
    const worker = async (transport: string, call: Call) => {
      for (let n = 0; running; n++) {
        const presentWrong = n % 5 === 4;
        const k = callerToken(Date.now());
        const result = await call(presentWrong ? WRONG_TOKEN : TOKENS[k]).catch((error: Error) => ({ accepted: false, failure: error.message }));
        counts.perTransport[transport] = (counts.perTransport[transport] ?? 0) + 1;
        if (result.failure) wrong.push(`${transport}: ${result.failure}`);
        else if (presentWrong) {
          if (result.accepted) wrong.push(`${transport}: the wrong token accepted`);
          else counts.wrongRefused++;
        } else if (!result.accepted) {
          const since =
            k + 1 < swaps.length ? `+${Date.now() - swaps[k + 1]} ms after the swap that replaced it` : `+${Date.now() - swaps[k]} ms after its swap`;
          wrong.push(`${transport}: token #${k} refused ${since}`);
        } else counts.accepted++;
      }
    };
    const workers = callers.flatMap(([transport, call]) => Array.from({ length: 4 }, () => worker(transport, call)));

    for (let k = 1; k < TOKENS.length; k++) {
      await new Promise((resolve) => setTimeout(resolve, ROTATE_EVERY));
      await kubelet.write({ token: TOKENS[k] }, volume);
      swaps.push(Date.now());
    }
    await new Promise((resolve) => setTimeout(resolve, SWITCH_AFTER + 500));
    running = false;
    await Promise.all(workers);

    process.stdout.write(`kubelet rotation: ${JSON.stringify(counts)}\n`);
    expect(wrong).toEqual([]);
    for (const [transport] of callers) expect(counts.perTransport[transport]).toBeGreaterThan(100);
    expect(counts.wrongRefused).toBeGreaterThan(20);

    // The grace period ends: once it has passed for the last swap, only the newest token is accepted.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, swaps[swaps.length - 1] + GRACE_PERIOD + POLL_INTERVAL + MARGIN - Date.now())));
    for (const [transport, call] of callers) {
      const answers = await Promise.all(TOKENS.map(async (token) => (await call(token)).accepted));
      expect([transport, answers]).toEqual([transport, [false, false, false, true]]);
    }
  });
});
