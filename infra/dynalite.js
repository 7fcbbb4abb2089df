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

const { HOST, supervise, parsePort, fail } = require('./emulator-process');

const NAME = 'dynalite';
supervise();
const port = parsePort(NAME, process.argv[2] || process.env.DYNALITE_PORT || '4567');

const server = require('dynalite')({
  // Tables become ACTIVE at once: tests must not sleep for a fake provisioning delay.
  createTableMs: 0,
  deleteTableMs: 0,
  updateTableMs: 0,
});

server.on('error', (err) => fail(NAME, port, err));

server.listen(port, HOST, () => {
  console.log(`${NAME} listening on http://${HOST}:${server.address().port}`);
});
