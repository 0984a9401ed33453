import react from "@vitejs/plugin-react";
import Ajv from "ajv";
import standaloneCode from "ajv/dist/standalone/index.js";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import type { Plugin } from "vite";

const schemaPath = fileURLToPath(new URL("../../docs/template.schema.json", import.meta.url));
const validatorId = "virtual:template-schema-validator";

// Compiles docs/template.schema.json into a validation module at build
// time, so that the browser runs plain code: ajv's own compiler needs
// `new Function`, which the page's Content-Security-Policy forbids.
function templateSchemaValidator(): Plugin {
  return {
    name: "smmhub-template-schema-validator",
    resolveId(id) {
      return id === validatorId ? "\0" + validatorId : null;
    },
    load(id) {
      if (id !== "\0" + validatorId) {
        return null;
      }
      this.addWatchFile(schemaPath);
      const ajv = new Ajv({ allErrors: true, strict: false, code: { source: true, esm: true } });
      const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, "utf8")));
      // Even as ESM, the standalone code loads ajv's runtime helpers (such
      // as ucs2length) with require(), which browsers lack: import them.
      const imports: string[] = [];
      const code = standaloneCode(ajv, validate).replace(
        /require\("(ajv\/dist\/runtime\/[\w]+)"\)\.default/g,
        (_match, module: string) => {
          const name = `runtime${imports.length}`;
          imports.push(`import ${name} from "${module}";`);
          return name;
        },
      );
      if (/\brequire\(/.test(code)) {
        throw new Error("the template schema's validation code still calls require()");
      }
      return imports.join("\n") + "\n" + code;
    },
  };
}

// The API serves dist/ itself (smmhub-api --web-root). During development,
// `npm run dev` forwards the API's paths to a running smmhub-api.
export default defineConfig({
  plugins: [react(), templateSchemaValidator()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 800,
  },
  server: {
    proxy: {
      "/api/": process.env.SMMHUB_API ?? "http://127.0.0.1:8080",
      "/healthz": process.env.SMMHUB_API ?? "http://127.0.0.1:8080",
    },
  },
});
