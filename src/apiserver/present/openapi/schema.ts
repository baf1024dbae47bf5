// A JSON Schema / OpenAPI v3 schema object as published (plain JSON).
export type Schema = { [key: string]: unknown };

export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
