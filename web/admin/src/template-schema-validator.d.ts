// The validation function that vite.config.ts compiles from
// docs/template.schema.json at build time.
declare module "virtual:template-schema-validator" {
  import type { ValidateFunction } from "ajv";

  const validate: ValidateFunction;
  export default validate;
}
