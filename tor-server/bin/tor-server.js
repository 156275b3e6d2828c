#!/usr/bin/env -S node --initial-heap-size=32
// Committed launcher: npm links bins at install time, before `prepare` has built dist/.
import '../dist/bin/tor-server.js';
