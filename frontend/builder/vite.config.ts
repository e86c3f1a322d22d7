/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The bundle is a Django static file: fixed names (the page links them by name, and WhiteNoise
// compresses them), written into the repository's static/builder/ (gitignored).
export default defineConfig({
  plugins: [react()],
  define: { "process.env.NODE_ENV": JSON.stringify("production") },
  build: {
    outDir: "../../static/builder",
    emptyOutDir: true,
    sourcemap: false,
    cssCodeSplit: false,
    // React, React Flow and dagre in one file, loaded only by the builder pages.
    chunkSizeWarningLimit: 700,
    rollupOptions: {
      input: "src/main.tsx",
      output: {
        entryFileNames: "builder.js",
        chunkFileNames: "builder-[name].js",
        assetFileNames: "builder.[ext]",
      },
    },
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts"],
  },
});
