#!/usr/bin/env -S node --initial-heap-size=64
// Committed launcher: npm links bins at install time, before `prepare` has built dist/.
import '../dist/main.js';
