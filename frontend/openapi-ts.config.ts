import { defineConfig } from "@hey-api/openapi-ts";

// Input and output come from the command line (see the Makefile's console-client target).
export default defineConfig({
  input: process.env.OPENAPI_INPUT ?? "openapi.json",
  output: { path: process.env.OPENAPI_OUTPUT ?? "src/client" },
  plugins: ["@hey-api/client-fetch"],
});
