import { gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

export interface GzipSizeReportOptions {
  /** Fail the build when the shipped JavaScript gzips to more than this. */
  jsLimitBytes: number;
}

/** Vite plugin: prints the gzipped size of the shipped JS and CSS after a build, failing over the JS budget. */
export function gzipSizeReport({ jsLimitBytes }: GzipSizeReportOptions): Plugin {
  let js = 0;
  let css = 0;
  return {
    name: 'tft-gzip-size-report',
    apply: 'build',
    generateBundle(_options, bundle) {
      js = 0;
      css = 0;
      for (const file of Object.values(bundle)) {
        if (file.type === 'chunk') js += gzipSync(file.code, { level: 9 }).length;
        else if (file.fileName.endsWith('.css')) css += gzipSync(file.source, { level: 9 }).length;
      }
      if (js > jsLimitBytes) {
        this.error(`shipped JavaScript is ${kib(js)} gzipped, over the ${kib(jsLimitBytes)} budget`);
      }
    },
    // closeBundle runs after Vite's own file listing, so the figure is the build's last line.
    closeBundle() {
      console.log(`web: shipped JS ${kib(js)} gzipped (budget ${kib(jsLimitBytes)}), CSS ${kib(css)} gzipped`);
    },
  };
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}
