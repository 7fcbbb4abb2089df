#!/usr/bin/env node
// Local SES v2 API (aws-ses-v2-local) for leadpipe's tests and dev stack.
//
// Usage: node infra/ses.js [PORT]   (or SES_PORT=PORT; default 8005)
//
// Binds 127.0.0.1 only. Prints one line "ses listening on
// http://127.0.0.1:PORT" once it accepts connections. Captured mail is kept in
// memory: GET /store lists it as JSON, POST /clear-store empties it, GET /
// shows it in a browser. Exits 0 on SIGTERM/SIGINT/SIGHUP, exits when its
// parent process dies (see LEADPIPE_PARENT_PID below), and exits 3 if the
// port is taken. SMTP_TRANSPORT (JSON nodemailer options), if set, makes the
// package relay every captured mail to that SMTP server as well.
//
// The package's own CLI binds --host as asked, but it reports a taken port
// only by accident and does not notice a dead parent: hence this wrapper.
'use strict';

const { HOST, supervise, parsePort, exitOnError } = require('./emulator-process');

const NAME = 'ses';
supervise();
const port = parsePort(NAME, process.argv[2] || process.env.SES_PORT || '8005');
const fail = exitOnError(NAME, port);

// Express 5 hands a listen error to app.listen's callback, which the package
// treats as success: remember the server's error so a failed bind is told
// apart from a started server.
const http = require('http');
const createServer = http.createServer;
let listenError;
http.createServer = function (...args) {
  const server = createServer.apply(this, args);
  server.once('error', (err) => { listenError = err; });
  return server;
};

require('aws-ses-v2-local').default({ host: HOST, port }).then((server) => {
  http.createServer = createServer;
  if (!server.listening) {
    fail(listenError || new Error(`could not listen on ${HOST}:${port}`));
    return;
  }
  server.on('error', fail);
  console.log(`${NAME} listening on http://${HOST}:${server.address().port}`);
}, fail);
