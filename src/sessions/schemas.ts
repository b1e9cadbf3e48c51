import { Type } from 'typebox';
import { Strict } from '../platform/web/schemas.js';

/** POST /v1/sessions and the /login form. */
export const SignInBody = Strict({
  login: Type.String({ minLength: 1, maxLength: 320, description: 'Username or e-mail' }),
  password: Type.String({ minLength: 1, maxLength: 1024 }),
});
