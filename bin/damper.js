#!/usr/bin/env node
// The `damper` command: the compiled CLI lives in dist/ (built by `npm install`).
import '../dist/src/cli.js';
