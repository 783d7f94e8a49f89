/// <reference types="vitest" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` proxies API calls to a running `tgflows dev` (TGFLOWS_API_PORT, default 8000).
const api = `http://127.0.0.1:${process.env.TGFLOWS_API_PORT ?? "8000"}`;
const apiPaths = ["/auth", "/me", "/campaign-flows", "/contacts", "/telegram-accounts", "/organizations", "/console", "/health", "/do-not-contact", "/reply-rules"];

export default defineConfig({
  plugins: [react()],
  build: { chunkSizeWarningLimit: 2000 },
  server: { proxy: Object.fromEntries(apiPaths.map((p) => [p, api])) },
  test: { environment: "jsdom", setupFiles: ["./src/test-setup.ts"] },
});
