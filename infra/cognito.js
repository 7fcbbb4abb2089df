#!/usr/bin/env node
// Local Cognito user pools API (cognito-local) for leadpipe's tests and dev
// stack.
//
// Usage: node infra/cognito.js PORT DIR   (or COGNITO_PORT=PORT; default 9229)
//
// DIR is an existing directory the emulator owns: cognito-local reads its
// configuration from <cwd>/.cognito/config.json and keeps its pools under
// <cwd>/.cognito/db, so this wrapper writes the configuration there and
// makes DIR its working directory. The caller removes DIR afterwards.
//
// Binds 127.0.0.1 only, and tokens name http://127.0.0.1:PORT/<poolId> as
// their issuer. Prints one line "cognito listening on http://127.0.0.1:PORT"
// once it accepts connections. Exits 0 on SIGTERM/SIGINT/SIGHUP, exits when
// its parent process dies (see emulator-process.js), and exits 3 if the port
// is taken. The signing key ships inside the package: local use only.
'use strict';

const fs = require('fs');
const path = require('path');
const { HOST, supervise, parsePort, exitOnError } = require('./emulator-process');

const NAME = 'cognito';
supervise();
const port = parsePort(NAME, process.argv[2] || process.env.COGNITO_PORT || '9229');
const fail = exitOnError(NAME, port);

const dir = process.argv[3];
if (!dir || !fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
  console.error(`${NAME}: usage: node infra/cognito.js PORT DIR (an existing directory for its data)`);
  process.exit(2);
}

fs.mkdirSync(path.join(dir, '.cognito'), { recursive: true });
fs.writeFileSync(path.join(dir, '.cognito', 'config.json'), JSON.stringify({
  ServerConfig: { hostname: HOST, port },
  TokenConfig: { IssuerDomain: `http://${HOST}:${port}` },
  // cognito-local's own default makes email the username attribute; the
  // staff pool has none (usernames are the staff's addresses), so neither
  // does the emulator's.
  UserPoolDefaults: { UsernameAttributes: [] },
}));
process.chdir(dir);
// The package still loads the AWS SDK v2, which announces its end of
// support on every start; nothing here uses it.
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = '1';

// The package's logger, resolved from the package itself rather than from
// infra/node_modules, whose layout npm may change.
const pkgDir = path.dirname(require.resolve('cognito-local/package.json'));
const pino = require(require.resolve('pino', { paths: [pkgDir] }));
const logger = pino({ level: process.env.DEBUG ? 'debug' : 'info', base: { name: NAME } });

require('cognito-local')
  .createDefaultServer(logger)
  .then((server) => server.start())
  .then((server) => {
    server.on('error', fail);
    console.log(`${NAME} listening on http://${HOST}:${server.address().port}`);
  }, fail);
