/// <reference types="vitest/config" />
import { defineConfig } from "vite";

// A Django static file with a fixed name (pages link it by name; WhiteNoise compresses it),
// written into the repository's static/charts/ (gitignored).
export default defineConfig({
  build: {
    outDir: "../../static/charts",
    emptyOutDir: true,
    sourcemap: false,
    rollupOptions: {
      input: "src/main.ts",
      output: { entryFileNames: "charts.js", chunkFileNames: "charts-[name].js" },
    },
  },
  test: { environment: "node", include: ["src/**/*.test.ts"] },
});
