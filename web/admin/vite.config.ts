import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The API serves dist/ itself (smmhub-api --web-root). During development,
// `npm run dev` forwards the API's paths to a running smmhub-api.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 800,
  },
  server: {
    proxy: {
      "/api": process.env.SMMHUB_API ?? "http://127.0.0.1:8080",
      "/healthz": process.env.SMMHUB_API ?? "http://127.0.0.1:8080",
    },
  },
});
