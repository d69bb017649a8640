import { Body, Controller, Get, Module, Post, Query, UseGuards, type DynamicModule } from '@nestjs/common';
import { DaprAuthGuard, DaprAuthModule, DaprProtected, DaprPublic, type DaprAuthModuleOptions } from 'nestjs-dapr-auth';

/** Handlers with no decorator of ours: protected only when the guard is global. */
@Controller('plain')
export class PlainController {
  @Get()
  get() {
    return { route: 'plain' };
  }

  @Post()
  post(@Body() body: unknown, @Query() query: unknown) {
    return { route: 'plain', body, query };
  }

  @Get('public')
  @DaprPublic()
  publicRoute() {
    return { route: 'plain/public' };
  }
}

/** `@UseGuards(DaprAuthGuard)` on the class. */
@Controller('use-guards')
@UseGuards(DaprAuthGuard)
export class UseGuardsController {
  @Get()
  get() {
    return { route: 'use-guards' };
  }
}

/** `@DaprProtected()` on the class. */
@Controller('protected-class')
@DaprProtected()
export class ProtectedClassController {
  @Get()
  get() {
    return { route: 'protected-class' };
  }

  @Get('public')
  @DaprPublic()
  publicRoute() {
    return { route: 'protected-class/public' };
  }
}

/** `@DaprProtected()` on one method only. */
@Controller('protected-method')
export class ProtectedMethodController {
  @Get()
  @DaprProtected()
  get() {
    return { route: 'protected-method' };
  }

  @Get('open')
  open() {
    return { route: 'protected-method/open' };
  }
}

/** `@DaprPublic()` on the class, `@DaprProtected()` on one method: the method wins. */
@Controller('public-class')
@DaprPublic()
export class PublicClassController {
  @Get()
  get() {
    return { route: 'public-class' };
  }

  @Get('protected')
  @DaprProtected()
  protectedRoute() {
    return { route: 'public-class/protected' };
  }
}

/** Health routes: daprd's probe never carries the token. */
@Controller()
export class HealthController {
  @Get('healthz')
  health() {
    return { status: 'ok' };
  }

  @Post('healthz')
  postHealth() {
    return { status: 'posted' };
  }

  @Get('custom-health')
  customHealth() {
    return { status: 'ok' };
  }
}

export const HTTP_TEST_CONTROLLERS = [
  PlainController,
  UseGuardsController,
  ProtectedClassController,
  ProtectedMethodController,
  PublicClassController,
  HealthController,
];

/** The test controllers with DaprAuthModule registered as given. */
export function httpTestModule(daprAuth: DynamicModule): DynamicModule {
  @Module({})
  class HttpTestModule {}
  return { module: HttpTestModule, imports: [daprAuth], controllers: HTTP_TEST_CONTROLLERS };
}

/** Shorthand: `DaprAuthModule.forRoot(options)` in the test module. */
export function httpTestModuleWith(options: DaprAuthModuleOptions & { global?: boolean }): DynamicModule {
  return httpTestModule(DaprAuthModule.forRoot(options));
}

/**
 * Only a catch-all route (`*path` on Express, `*` on Fastify): it must not serve the
 * health-check path without a token.
 */
export function catchAllTestModule(options: DaprAuthModuleOptions, wildcard: string): DynamicModule {
  @Controller()
  class CatchAllController {
    @Get(wildcard)
    any() {
      return { route: 'catch-all' };
    }
  }
  @Module({})
  class CatchAllTestModule {}
  return { module: CatchAllTestModule, imports: [DaprAuthModule.forRoot({ ...options, global: true })], controllers: [CatchAllController] };
}
