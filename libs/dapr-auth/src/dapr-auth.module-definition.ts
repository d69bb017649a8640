import { ConfigurableModuleBuilder, type Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { DAPR_AUTH_GLOBAL_GUARD, DAPR_AUTH_MODULE_OPTIONS } from './dapr-auth.constants.js';
import { DaprAuthGlobalGuard } from './dapr-auth.global-guard.js';
import { OptionChecks } from './option-checks.js';
import type { DaprAuthModuleExtras, DaprAuthModuleOptions } from './options/dapr-auth.options.js';

// The global registration is a subclass that lets @DaprProtected() handlers be checked by their
// own route-level guard only (see dapr-auth.global-guard.ts).
const globalGuard: Provider[] = [DaprAuthGlobalGuard, { provide: APP_GUARD, useExisting: DaprAuthGlobalGuard }];

/** `global` is checked here, where it is used: a string "false" would be truthy. */
function checkExtras(extras: DaprAuthModuleExtras): object {
  new OptionChecks().boolean('global', extras.global, false);
  return {};
}

export const {
  ConfigurableModuleClass: ConfigurableDaprAuthModule,
  OPTIONS_TYPE: DAPR_AUTH_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: DAPR_AUTH_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<DaprAuthModuleOptions>({ optionsInjectionToken: DAPR_AUTH_MODULE_OPTIONS })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createDaprAuthOptions')
  .setExtras<DaprAuthModuleExtras>({ global: false }, (definition, extras) => ({
    ...definition,
    ...checkExtras(extras),
    // Always a global module, so @UseGuards(DaprAuthGuard) resolves in every feature module.
    global: true,
    providers: [...(definition.providers ?? []), { provide: DAPR_AUTH_GLOBAL_GUARD, useValue: extras.global === true }, ...(extras.global ? globalGuard : [])],
  }))
  .build();

/** What {@link DaprAuthModule.forRoot} takes: the options plus `global`. */
export type DaprAuthModuleForRootOptions = typeof DAPR_AUTH_OPTIONS_TYPE;
/** What {@link DaprAuthModule.forRootAsync} takes: `imports`, `inject`, `useFactory | useClass | useExisting`, `global`. */
export type DaprAuthModuleAsyncOptions = typeof DAPR_AUTH_ASYNC_OPTIONS_TYPE;
