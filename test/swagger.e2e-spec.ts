import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { addDaprAuthToSwagger } from 'nestjs-dapr-auth';
import { HTTP_PLATFORMS, startHttpApp } from './support/http.js';
import { httpTestModuleWith } from './support/http-test-app.js';
import { TOKEN } from './support/tokens.js';

/**
 * addDaprAuthToSwagger on a document from @nestjs/swagger: protected operations get the
 * dapr-api-token apiKey requirement, public ones none, with no decorator repeated.
 */
const security = (document: any, path: string, method: string) => document.paths[path]?.[method]?.security;
const REQUIRED = [{ 'dapr-api-token': [] }];

describe.each([true, false])('addDaprAuthToSwagger, global: %s', (global) => {
  it('marks exactly the operations the guard protects', async () => {
    const { app } = await startHttpApp(httpTestModuleWith({ token: TOKEN, global }), HTTP_PLATFORMS[0][1]);
    try {
      const document = addDaprAuthToSwagger(SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('orders').build()), app);
      expect(document.components?.securitySchemes?.['dapr-api-token']).toEqual(
        expect.objectContaining({ type: 'apiKey', in: 'header', name: 'dapr-api-token' }),
      );
      expect(security(document, '/plain', 'get')).toEqual(global ? REQUIRED : undefined);
      expect(security(document, '/plain/public', 'get')).toBeUndefined(); // @DaprPublic()
      expect(security(document, '/use-guards', 'get')).toEqual(REQUIRED);
      expect(security(document, '/protected-class', 'get')).toEqual(REQUIRED);
      expect(security(document, '/protected-class/public', 'get')).toBeUndefined();
      expect(security(document, '/public-class', 'get')).toBeUndefined();
      expect(security(document, '/public-class/protected', 'get')).toEqual(REQUIRED);
      expect(security(document, '/healthz', 'get')).toBeUndefined(); // daprd's probe, exempt
      expect(security(document, '/healthz', 'post')).toEqual(global ? REQUIRED : undefined);
    } finally {
      await app.close();
    }
  });
});
