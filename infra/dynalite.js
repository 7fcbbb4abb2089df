#!/usr/bin/env node
// Local DynamoDB API (dynalite, in memory) for leadpipe's tests and dev stack.
//
// Usage: node infra/dynalite.js [PORT]   (or DYNALITE_PORT=PORT; default 4567)
//
// Binds 127.0.0.1 only (dynalite's own CLI binds every interface). Prints one
// line "dynalite listening on http://127.0.0.1:PORT" once it accepts
// connections. Exits 0 on SIGTERM/SIGINT/SIGHUP, exits when its parent process
// dies (so a crashed test run leaves no orphan; see LEADPIPE_PARENT_PID
// below), and exits 3 if the port is taken. Data lives in memory and is gone
// when the process stops.
'use strict';

const NAME = 'dynalite';
const HOST = '127.0.0.1';
const EXIT_PORT_IN_USE = 3;

// Watch the parent from the start: loading the emulator takes a while, and a
// parent that dies meanwhile must still be noticed. A dead parent's children
// are re-parented (to init or a subreaper), so a changed ppid means: leave.
// LEADPIPE_PARENT_PID names the expected parent, for a launcher (like a shell
// script starting us with &) that may exit before node has even started.
const parent = Number(process.env.LEADPIPE_PARENT_PID) || process.ppid;
function orphaned() {
  return process.ppid !== parent;
}
if (orphaned()) process.exit(0);
setInterval(() => {
  if (orphaned()) process.exit(0);
}, 500).unref();

const port = parsePort(process.argv[2] || process.env.DYNALITE_PORT || '4567');

const server = require('dynalite')({
  // Tables become ACTIVE at once: tests must not sleep for a fake provisioning delay.
  createTableMs: 0,
  deleteTableMs: 0,
  updateTableMs: 0,
});

server.on('error', (err) => {
  if (err.code === 'EADDRINUSE') {
    console.error(`${NAME}: port ${port} on ${HOST} is already in use`);
    process.exit(EXIT_PORT_IN_USE);
  }
  console.error(`${NAME}: ${err.stack || err}`);
  process.exit(1);
});

server.listen(port, HOST, () => {
  console.log(`${NAME} listening on http://${HOST}:${server.address().port}`);
});

for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(sig, () => process.exit(0));
}

function parsePort(s) {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`${NAME}: invalid port ${JSON.stringify(s)}`);
    process.exit(2);
  }
  return n;
}
