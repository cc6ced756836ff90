// The MCP end-to-end suite's TypeScript SDK client program (@modelcontextprotocol/sdk 1.32.2, Node 20).
//
//   node client.mjs --server-url http://127.0.0.1:PORT/mcp --client-id https://HOST/PATH.json \
//                   --callback-port N [--refresh-after SECONDS]
//
// The SDK does the OAuth work: protected resource metadata (RFC 9728), authorization server metadata
// (RFC 8414 / OpenID discovery), the choice of the client_id (the URL from `clientMetadataUrl` when the
// authorization server says `client_id_metadata_document_supported`), PKCE, the token request, the refresh
// when the MCP server answers 401 to an expired token, and the tool calls. This file keeps the tokens and the
// PKCE verifier in memory, prints the authorization URL instead of opening a browser, and listens on the
// loopback callback, as a command-line MCP client would.
//
// stdout carries only the JSON lines that tests/mcp/harness.py reads, one per step (authorize, callback,
// tool 1, tool 2, done, or error with exit 1); everything else goes to stderr.

import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';

const CALLBACK_WAIT_MS = 120_000;
const TOOL = 'whoami';

function emit(line) {
  process.stdout.write(JSON.stringify(line) + '\n');
}

function log(...parts) {
  console.error('[mcp-client-ts]', ...parts);
}

function fail(message) {
  emit({ step: 'error', message });
  process.exit(1);
}

function options() {
  const { values } = parseArgs({
    options: {
      'server-url': { type: 'string' },
      'client-id': { type: 'string' },
      'callback-port': { type: 'string' },
      'refresh-after': { type: 'string', default: '0' },
    },
    strict: true,
  });
  for (const name of ['server-url', 'client-id', 'callback-port']) {
    if (!values[name]) throw new Error(`--${name} is required`);
  }
  const port = Number(values['callback-port']);
  const refreshAfter = Number(values['refresh-after']);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error('--callback-port must be a port number');
  if (!Number.isFinite(refreshAfter) || refreshAfter < 0) throw new Error('--refresh-after must be a number of seconds');
  return { serverUrl: values['server-url'], clientId: values['client-id'], port, refreshAfter };
}

// The OAuthClientProvider: state in memory only, one session per process.
class MemoryProvider {
  constructor({ clientId, redirectUrl }) {
    this.clientMetadataUrl = clientId;
    this._redirectUrl = redirectUrl;
    this._client = undefined;
    this._tokens = undefined;
    this._verifier = undefined;
    this.expectedState = undefined;
    this.authorizationUrl = undefined;
    this.secondAuthorization = false;
  }
  get redirectUrl() {
    return this._redirectUrl;
  }
  // What the document at clientMetadataUrl says too (the harness publishes it); the SDK sends this only when
  // it falls back to dynamic registration, which saveClientInformation refuses below.
  get clientMetadata() {
    return {
      client_name: 'cimd e2e TS client',
      redirect_uris: [this._redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  state() {
    this.expectedState = randomBytes(16).toString('base64url');
    return this.expectedState;
  }
  clientInformation() {
    return this._client;
  }
  saveClientInformation(info) {
    // The suite is about URL client_ids: a registered id would mean the authorization server did not
    // advertise client_id_metadata_document_supported and the SDK fell back to dynamic registration.
    if (info.client_id !== this.clientMetadataUrl) {
      throw new Error(
        `the SDK would use client_id ${info.client_id}, not the client ID metadata document URL ` +
          '(authorization server without client_id_metadata_document_supported?)',
      );
    }
    this._client = info;
  }
  tokens() {
    return this._tokens;
  }
  saveTokens(tokens) {
    log(`tokens saved (expires_in=${tokens.expires_in}, refresh_token=${tokens.refresh_token ? 'yes' : 'no'}, scope=${tokens.scope})`);
    this._tokens = tokens;
  }
  redirectToAuthorization(url) {
    // One login per run (the harness's browser opens one URL): a second one, e.g. after a failed refresh,
    // is not printed and ends the run as an error (the SDK then throws UnauthorizedError).
    if (this.authorizationUrl) {
      this.secondAuthorization = true;
      log(`SDK asks for a second authorization: ${url.href}`);
      return;
    }
    this.authorizationUrl = url.href;
    emit({ step: 'authorize', url: url.href });
  }
  saveCodeVerifier(verifier) {
    this._verifier = verifier;
  }
  codeVerifier() {
    if (!this._verifier) throw new Error('no PKCE code verifier saved');
    return this._verifier;
  }
  invalidateCredentials(scope) {
    log(`SDK invalidates credentials: ${scope}`);
    if (scope === 'all' || scope === 'client') this._client = undefined;
    if (scope === 'all' || scope === 'tokens') this._tokens = undefined;
    if (scope === 'all' || scope === 'verifier') this._verifier = undefined;
  }
}

// The loopback redirect_uri listener. Resolves with the callback's query parameters (once).
function listenForCallback(port) {
  let deliver;
  const received = new Promise((resolve) => {
    deliver = resolve;
  });
  const server = createServer((req, res) => {
    const url = new URL(req.url, `http://127.0.0.1:${port}`);
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    const params = Object.fromEntries(url.searchParams);
    log(`callback: ${[...url.searchParams.keys()].join(', ')}`);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', connection: 'close' });
    res.end(
      params.error
        ? '<!doctype html><title>Authorization failed</title><p>Authorization failed. You can close this window.'
        : '<!doctype html><title>Authorized</title><p>Authorization complete. You can close this window.',
    );
    deliver(params);
  });
  const ready = new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return { ready, received, close: () => server.close() };
}

async function waitForCallback(callback, provider) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no callback within ${CALLBACK_WAIT_MS / 1000} s`)), CALLBACK_WAIT_MS);
  });
  try {
    const params = await Promise.race([callback.received, timeout]);
    if (params.error) {
      emit({ step: 'callback', error: params.error, error_description: params.error_description ?? '' });
      throw new Error(
        `authorization server returned ${params.error}` + (params.error_description ? `: ${params.error_description}` : ''),
      );
    }
    if (!params.code) {
      emit({ step: 'callback', error: 'no_code', error_description: 'callback without code or error' });
      throw new Error('callback without code or error');
    }
    if (params.state !== provider.expectedState) {
      emit({ step: 'callback', error: 'state_mismatch', error_description: 'state differs from the authorization request' });
      throw new Error('callback state differs from the authorization request');
    }
    emit({ step: 'callback', code_received: true });
    return params.code;
  } finally {
    clearTimeout(timer);
  }
}

function newSession(serverUrl, provider) {
  const transport = new StreamableHTTPClientTransport(new URL(serverUrl), { authProvider: provider });
  const client = new Client({ name: 'cimd-e2e-ts', version: '1.0.0' });
  return { client, transport };
}

async function callWhoami(client, call) {
  const result = await client.callTool({ name: TOOL, arguments: {} });
  const text = (result.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('');
  if (result.isError) throw new Error(`tool ${TOOL} failed: ${text}`);
  emit({ step: 'tool', call, result: text });
}

function describe(error, provider) {
  if (error instanceof UnauthorizedError && provider?.secondAuthorization) {
    return 'the SDK asked for a second authorization in one run (the refresh failed?)';
  }
  // OAuth errors from the token endpoint carry their code apart from the description.
  const code = error?.errorCode;
  let message = error?.message ?? String(error);
  if (code && !message.includes(code)) message = `${code}: ${message}`;
  // fetch() says only "fetch failed"; the reason (e.g. ECONNREFUSED) is its cause.
  const cause = error?.cause;
  if (cause) message += `: ${cause.message ?? cause}`;
  return message;
}

let provider; // for describe() once main() has failed

async function main() {
  const opts = options();
  const redirectUrl = `http://127.0.0.1:${opts.port}/callback`;
  provider = new MemoryProvider({ clientId: opts.clientId, redirectUrl });
  const callback = listenForCallback(opts.port);
  await callback.ready;
  let session = newSession(opts.serverUrl, provider);
  try {
    await session.client.connect(session.transport);
    log('connected without authorization');
  } catch (error) {
    if (!(error instanceof UnauthorizedError) || !provider.authorizationUrl) throw error;
    log('authorization required; waiting for the callback');
    const code = await waitForCallback(callback, provider);
    // The transport that started the flow exchanges the code; then a fresh one connects with the tokens.
    await session.transport.finishAuth(code);
    session = newSession(opts.serverUrl, provider);
    await session.client.connect(session.transport);
  }
  callback.close();
  await callWhoami(session.client, 1);
  if (opts.refreshAfter > 0) {
    log(`waiting ${opts.refreshAfter} s`);
    await sleep(opts.refreshAfter * 1000);
  }
  await callWhoami(session.client, 2);
  emit({ step: 'done' });
  await session.client.close().catch(() => {});
}

main().then(
  () => process.exit(0),
  (error) => {
    log(error?.stack ?? error);
    fail(describe(error, provider));
  },
);
