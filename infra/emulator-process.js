// Process rules shared by the emulator wrappers (dynalite.js, ses.js,
// cognito.js):
// leave with the parent, exit cleanly on signals, parse the port, and the
// exit code for a taken port that localaws turns into a clear message.
'use strict';

const HOST = '127.0.0.1';
const EXIT_PORT_IN_USE = 3;

// supervise starts watching the parent at once: loading an emulator takes a
// while, and a parent that dies meanwhile must still be noticed. A dead
// parent's children are re-parented (to init or a subreaper), so a changed
// ppid means: leave. LEADPIPE_PARENT_PID names the expected parent, for a
// launcher (like a shell script starting us with &) that may exit before
// node has even started.
function supervise() {
  const parent = Number(process.env.LEADPIPE_PARENT_PID) || process.ppid;
  const orphaned = () => process.ppid !== parent;
  if (orphaned()) process.exit(0);
  setInterval(() => {
    if (orphaned()) process.exit(0);
  }, 500).unref();
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
    process.on(sig, () => process.exit(0));
  }
}

function parsePort(name, s) {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`${name}: invalid port ${JSON.stringify(s)}`);
    process.exit(2);
  }
  return n;
}

// fail reports err and exits: 3 for a taken port, 1 for anything else.
function fail(name, port, err) {
  if (err && err.code === 'EADDRINUSE') {
    console.error(`${name}: port ${port} on ${HOST} is already in use`);
    process.exit(EXIT_PORT_IN_USE);
  }
  console.error(`${name}: ${(err && err.stack) || err}`);
  process.exit(1);
}

// exitOnError makes any uncaught error or rejection end the emulator
// through fail, and returns that handler for the wrapper's own errors.
function exitOnError(name, port) {
  const handler = (err) => fail(name, port, err);
  process.on('uncaughtException', handler);
  process.on('unhandledRejection', handler);
  return handler;
}

module.exports = { HOST, supervise, parsePort, fail, exitOnError };
