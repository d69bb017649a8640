import { jest } from '@jest/globals';
import { Controller, Get, Injectable, type INestApplication, Module, Scope, UseGuards } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { DAPR_TOKEN_SOURCE, DaprAuthConfigError, DaprAuthGuard, DaprAuthModule, type DaprAuthModuleOptions, type DaprTokenSource } from 'nestjs-dapr-auth';
import { send, startHttpApp } from './support/http.js';
import { httpTestModule, httpTestModuleWith } from './support/http-test-app.js';
import { capturedOutput, registerSecret } from './support/secrets.js';
import { PREVIOUS_TOKEN, TOKEN, WRONG_TOKEN } from './support/tokens.js';

const express = () => new ExpressAdapter();

describe('DaprAuthModule configuration', () => {
  const apps: INestApplication[] = [];
  const savedEnv = { ...process.env };
  afterEach(async () => {
    process.env = { ...savedEnv };
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  async function statusWith(module: Parameters<typeof startHttpApp>[0], token?: string): Promise<number> {
    const { app, baseUrl } = await startHttpApp(module, express);
    apps.push(app);
    return (await send(baseUrl, '/plain', { headers: token === undefined ? {} : { 'dapr-api-token': token } })).status;
  }

  describe('token sources', () => {
    it('reads APP_API_TOKEN by default, like daprd', async () => {
      process.env.APP_API_TOKEN = TOKEN;
      const { app, baseUrl } = await startHttpApp(httpTestModuleWith({ global: true }), express);
      apps.push(app);
      expect((await send(baseUrl, '/plain', { headers: { 'dapr-api-token': TOKEN } })).status).toBe(200);
      expect((await send(baseUrl, '/plain', { headers: { 'dapr-api-token': WRONG_TOKEN } })).status).toBe(401);
    });

    it('tokenEnvVar names another variable (e.g. `token` from a Kubernetes envFrom)', async () => {
      delete process.env.APP_API_TOKEN;
      process.env.token = TOKEN;
      expect(await statusWith(httpTestModuleWith({ global: true, tokenEnvVar: 'token' }), TOKEN)).toBe(200);
    });

    it('tokenEnvVar takes a list: every set variable is accepted (rotation)', async () => {
      process.env.APP_API_TOKEN = TOKEN;
      process.env.APP_API_TOKEN_PREVIOUS = PREVIOUS_TOKEN;
      const module = httpTestModuleWith({ global: true, tokenEnvVar: ['APP_API_TOKEN', 'APP_API_TOKEN_PREVIOUS', 'UNSET_VARIABLE'] });
      const { app, baseUrl } = await startHttpApp(module, express);
      apps.push(app);
      expect((await send(baseUrl, '/plain', { headers: { 'dapr-api-token': TOKEN } })).status).toBe(200);
      expect((await send(baseUrl, '/plain', { headers: { 'dapr-api-token': PREVIOUS_TOKEN } })).status).toBe(200);
    });

    it('a custom DaprTokenSource is asked on every request, and a new snapshot takes effect at once', async () => {
      class RotatingSource implements DaprTokenSource {
        tokens: readonly string[] = [TOKEN];
        getTokens() {
          return this.tokens;
        }
      }
      const source = new RotatingSource();
      const { app, baseUrl } = await startHttpApp(httpTestModuleWith({ global: true, tokenSource: source }), express);
      apps.push(app);
      const call = async (token: string) => (await send(baseUrl, '/plain', { headers: { 'dapr-api-token': token } })).status;
      expect(await call(TOKEN)).toBe(200);
      expect(await call(PREVIOUS_TOKEN)).toBe(401);
      source.tokens = [PREVIOUS_TOKEN, TOKEN];
      expect([await call(TOKEN), await call(PREVIOUS_TOKEN)]).toEqual([200, 200]);
      source.tokens = [];
      expect([await call(TOKEN), await call(PREVIOUS_TOKEN)]).toEqual([401, 401]);
      expect(app.get(DAPR_TOKEN_SOURCE)).toBe(source);
    });

    it('closes the token source on application shutdown', async () => {
      const close = jest.fn<() => void>();
      const { app } = await startHttpApp(httpTestModuleWith({ tokenSource: { getTokens: () => [TOKEN], close } }), express);
      app.enableShutdownHooks();
      await app.close();
      expect(close).toHaveBeenCalledTimes(1);
    });
  });

  describe('forRootAsync', () => {
    it('works with @nestjs/config ConfigService (useFactory + inject) and global: true', async () => {
      const module = httpTestModule(
        DaprAuthModule.forRootAsync({
          global: true,
          imports: [ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ DAPR_TOKEN: TOKEN })] })],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({ token: config.getOrThrow<string>('DAPR_TOKEN') }),
        }),
      );
      expect(await statusWith(module, TOKEN)).toBe(200);
      expect(await statusWith(module)).toBe(401);
    });

    it('works with useClass', async () => {
      @Injectable()
      class DaprAuthConfig {
        createDaprAuthOptions(): DaprAuthModuleOptions {
          return { token: TOKEN };
        }
      }
      const module = httpTestModule(DaprAuthModule.forRootAsync({ global: true, useClass: DaprAuthConfig }));
      expect(await statusWith(module, TOKEN)).toBe(200);
      expect(await statusWith(module, WRONG_TOKEN)).toBe(401);
    });

    it('works with useExisting', async () => {
      @Injectable()
      class SharedConfig {
        createDaprAuthOptions(): DaprAuthModuleOptions {
          return { token: TOKEN };
        }
      }
      @Module({ providers: [SharedConfig], exports: [SharedConfig] })
      class SharedConfigModule {}
      const module = httpTestModule(DaprAuthModule.forRootAsync({ global: true, imports: [SharedConfigModule], useExisting: SharedConfig }));
      expect(await statusWith(module, TOKEN)).toBe(200);
      expect(await statusWith(module)).toBe(401);
    });

    it('without global the guard is not applied everywhere', async () => {
      const module = httpTestModule(DaprAuthModule.forRootAsync({ useFactory: () => ({ token: TOKEN }) }));
      expect(await statusWith(module)).toBe(200);
    });

    // F7: a key forRootAsync does not know would otherwise be dropped (here: the app would start, not global).
    it.each([
      ['isGlobal', { isGlobal: true }, /unknown forRootAsync\(\) key\(s\) `isGlobal` \(`isGlobal` is @nestjs\/config's name: here it is `global`\)/],
      ['an option beside the factory', { token: TOKEN }, /unknown forRootAsync\(\) key\(s\) `token`.*what useFactory/],
    ])('refuses an unknown key: %s', (_name, extra, message) => {
      expect(() => DaprAuthModule.forRootAsync({ useFactory: () => ({ token: TOKEN }), ...(extra as object) } as never)).toThrow(message);
    });

    it('refuses nothing it takes', () => {
      expect(() => DaprAuthModule.forRootAsync({ global: true, imports: [], inject: [], useFactory: () => ({ token: TOKEN }) })).not.toThrow();
    });

    it.each([true, false])('a factory that injects a request-scoped provider is refused at start-up (global: %s), never run per request', async (global) => {
      @Injectable({ scope: Scope.REQUEST })
      class PerRequestConfig {
        token = TOKEN;
      }
      @Module({ providers: [PerRequestConfig], exports: [PerRequestConfig] })
      class PerRequestModule {}
      const factory = jest.fn((config: PerRequestConfig) => ({ token: config.token }));
      const module = httpTestModule(DaprAuthModule.forRootAsync({ global, imports: [PerRequestModule], inject: [PerRequestConfig], useFactory: factory }));
      const starting = NestFactory.create(module, express(), { logger: ['fatal'], abortOnError: false });
      await expect(starting).rejects.toThrow(DaprAuthConfigError);
      await expect(starting).rejects.toThrow(/depend on a request-scoped provider.*Inject only singleton providers/);
      expect(factory).not.toHaveBeenCalled();
    });

    it('`global` must be a boolean: the string "false" is refused, not taken as true', () => {
      expect(() => DaprAuthModule.forRoot({ token: TOKEN, global: 'false' as never })).toThrow(/option `global` must be true or false, got a string/);
      expect(() => DaprAuthModule.forRootAsync({ global: 'false' as never, useFactory: () => ({ token: TOKEN }) })).toThrow(DaprAuthConfigError);
    });
  });

  describe('start-up', () => {
    async function startUpError(options: DaprAuthModuleOptions): Promise<Error> {
      const compiling = Test.createTestingModule({ imports: [DaprAuthModule.forRoot(options)] }).compile();
      await expect(compiling).rejects.toThrow(DaprAuthConfigError);
      return compiling.then(
        () => new Error('compiled'),
        (error: Error) => error,
      );
    }

    it('refuses to start without a token and names the variable to set', async () => {
      delete process.env.APP_API_TOKEN;
      const error = await startUpError({});
      expect(error.message).toContain('APP_API_TOKEN is not set');
      expect(error.message).toContain('allowUnconfigured');
    });

    it('names a custom tokenEnvVar in the message', async () => {
      delete process.env.ORDERS_TOKEN;
      expect((await startUpError({ tokenEnvVar: 'ORDERS_TOKEN' })).message).toContain('environment variable ORDERS_TOKEN is not set');
    });

    it.each([
      ['an empty APP_API_TOKEN', () => (process.env.APP_API_TOKEN = ''), /APP_API_TOKEN is empty/],
      ['a trailing newline', () => (process.env.APP_API_TOKEN = `${TOKEN}\n`), /trailing newline/],
    ])('refuses %s without echoing it', async (_case, arrange, message) => {
      arrange();
      const error = await startUpError({});
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain(TOKEN);
    });

    it('fails fast through NestFactory.create too (no half-started app)', async () => {
      delete process.env.APP_API_TOKEN;
      await expect(NestFactory.create(httpTestModuleWith({}), { logger: ['fatal'], abortOnError: false })).rejects.toThrow(/APP_API_TOKEN/);
    });

    it('allowUnconfigured: true starts without a token, lets everything through, and warns loudly', async () => {
      delete process.env.APP_API_TOKEN;
      expect(await statusWith(httpTestModuleWith({ global: true, allowUnconfigured: true }))).toBe(200);
      expect(capturedOutput()).toContain('EVERY request is let through unchecked');
    });

    it('warns at start-up about a short token, without printing it', async () => {
      const short = 'short-tok';
      registerSecret(short);
      expect(await statusWith(httpTestModuleWith({ global: true, token: short }), short)).toBe(200);
      expect(capturedOutput()).toContain('shorter than 16 characters');
    });

    it('DaprAuthGuard without DaprAuthModule fails with a message that names the fix', async () => {
      @Controller('x')
      @UseGuards(DaprAuthGuard)
      class LonelyController {
        @Get()
        get() {
          return 'x';
        }
      }
      await expect(Test.createTestingModule({ controllers: [LonelyController] }).compile()).rejects.toThrow(/DaprAuthModule\.forRoot\(\)/);
    });
  });
});
