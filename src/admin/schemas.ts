import { Type } from 'typebox';
import { Strict } from '../platform/web/schemas.js';

export const StaffRoleSchema = Type.Union([Type.Literal('agent'), Type.Literal('admin')]);

// One schema per body, for /v1/admin and the /admin forms alike.
export const SetupBody = Strict({ token: Type.String({ minLength: 1, maxLength: 200 }) });
export const GrantBody = Strict({ login: Type.String({ minLength: 1, maxLength: 320 }), role: StaffRoleSchema });
export const ServiceKeyBody = Strict({ name: Type.String({ minLength: 1, maxLength: 100 }) });
