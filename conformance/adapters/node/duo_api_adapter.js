#!/usr/bin/env node
'use strict'
// Conformance adapter: Duo's official Node.js client (@duosecurity/duo_api 1.5.0) run under the
// kit's contract (conformance/CONTRACT.md).
//
// It does what an integrator using the client does: Client.apiCall for GET /admin/v1/users,
// /admin/v1/admins, /admin/v1/groups and /admin/v2/groups/{id}/users. The client has no paging,
// so this adapter pages as Duo's docs describe: each endpoint's largest page (300, 300, 100, 500),
// following metadata.next_offset until it is absent or null. The client signs (v2,
// HMAC-SHA512), sends, backs off on 429 (1 to 32 s) and hands back the body; this adapter maps
// what came back to the contract's failure kinds. transport_shim.js is the little the client
// needs to reach the kit's fake (a port, the kit's CA) and to say what it got (status, headers,
// error); the failures that remain are the client's, recorded with reasons in
// conformance/ledger/duo-api-nodejs.toml.
//
// Contract: DUO_API_HOST (host or host:port), DUO_IKEY, DUO_SKEY, optional DUO_CA_CERT,
// DUO_OUTPUT. Exit 0 with the snapshot in DUO_OUTPUT, 1 with {"error": {...}}, 2 for a usage
// error.
//
//     node conformance/adapters/node/duo_api_adapter.js

const fs = require('fs')
const path = require('path')
const shim = require('./transport_shim')

// Duo's largest page per list endpoint.
const PAGE = { users: 300, admins: 300, groups: 100, members: 500 }

// Duo's error codes and the contract's kinds (429xx and 5xxxx are ranges, below).
const KIND_BY_CODE = {
  40102: 'invalid_credentials',
  40103: 'invalid_signature',
  40105: 'clock_skew',
  40301: 'permission_denied',
  40101: 'protocol',
  40104: 'protocol',
  40002: 'protocol',
  40401: 'protocol'
}

// Node's error codes of a certificate or handshake failure (besides ERR_TLS_* and ERR_SSL_*).
const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'HOSTNAME_MISMATCH'
])
// A connection that could not be made, or a name that did not resolve.
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH'
])

/** A failure classified into the contract's kinds. */
class Failure extends Error {
  constructor (kind, message, fields = {}) {
    super(message)
    this.document = {
      kind,
      message,
      endpoint: fields.endpoint ?? null,
      http_status: fields.httpStatus ?? null,
      duo_code: fields.duoCode ?? null,
      clock_offset_s: fields.clockOffset ?? null
    }
  }
}

// The call waiting for the client's callback, if one is: see the 'beforeExit' handler in main.
let pending = null

/** One GET through the client: its body text and what the shim saw of the exchange. */
function call (client, endpoint, params) {
  return new Promise((resolve) => {
    const settle = (body) => {
      // Once: the client may call back after the adapter stopped waiting.
      if (pending !== settle) return
      pending = null
      resolve({
        body,
        status: shim.lastExchange.status,
        headers: shim.lastExchange.headers,
        error: shim.lastExchange.error
      })
    }
    pending = settle
    client.apiCall('GET', endpoint, params, settle)
  })
}

/** The envelope of a valid answer to GET `endpoint`, or a Failure. */
async function get (client, endpoint, params) {
  const exchange = await call(client, endpoint, params)
  if (exchange.error) {
    throw transportFailure(exchange.error, endpoint)
  }
  const status = exchange.status
  let envelope = null
  try {
    envelope = JSON.parse(exchange.body)
  } catch (_) {}
  if (status === 200) {
    if (envelope && envelope.stat === 'OK' && envelope.response !== undefined) {
      return envelope
    }
    const text = (exchange.body || '').trimStart()
    if (!text || text.startsWith('<')) {
      throw new Failure('blocked_by_intermediary',
        `a 200 that is not Duo's JSON (a proxy or filter in the path): ${preview(text)}`,
        { endpoint, httpStatus: status })
    }
    throw new Failure('protocol', `a 200 that is not a valid Duo answer: ${preview(text)}`,
      { endpoint, httpStatus: status })
  }
  const code = envelope && envelope.stat === 'FAIL' ? Number(envelope.code) : NaN
  if (!Number.isInteger(code)) {
    throw new Failure('blocked_by_intermediary',
      `HTTP ${status} that is not Duo's answer (a WAF, proxy or gateway): ${preview(exchange.body)}`,
      { endpoint, httpStatus: status })
  }
  let kind = KIND_BY_CODE[code] || 'protocol'
  if (code >= 42900 && code <= 42999) kind = 'rate_limited'
  if (code >= 50000 && code <= 59999) kind = 'server_error'
  let message = `Duo answered ${status} ${code} ${envelope.message || ''}`.trim()
  let clockOffset = null
  if (kind === 'clock_skew') {
    // Duo's clock, from the Date header of its answer (kept by the shim).
    const duoTime = Date.parse((exchange.headers || {}).date)
    if (!Number.isNaN(duoTime)) {
      clockOffset = Math.round((duoTime - Date.now()) / 1000)
      const direction = clockOffset >= 0 ? 'ahead of' : 'behind'
      message = `Duo's clock is ${Math.abs(clockOffset)} seconds ${direction} this machine's (${message})`
    }
  }
  throw new Failure(kind, message, { endpoint, httpStatus: status, duoCode: code, clockOffset })
}

/** A failed request (Node's error, as the shim kept it) as a Failure. */
function transportFailure (error, endpoint) {
  const code = error.code || ''
  const text = `${code ? code + ': ' : ''}${error.message}`
  if (TLS_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_')) {
    return new Failure('tls', `TLS: ${text}`, { endpoint })
  }
  if (NETWORK_CODES.has(code)) {
    return new Failure('network', `cannot connect: ${text}`, { endpoint })
  }
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED') {
    return new Failure('blocked_by_intermediary',
      `the connection was cut before a whole answer: ${text}`, { endpoint })
  }
  return new Failure('network', text, { endpoint })
}

function preview (text) {
  return String(text || '').split(/\s+/).join(' ').slice(0, 120)
}

/** A whole list, paged by next_offset. */
async function list (client, endpoint, limit) {
  const objects = []
  let offset = 0
  for (;;) {
    const envelope = await get(client, endpoint, { limit: String(limit), offset: String(offset) })
    if (!Array.isArray(envelope.response)) {
      throw new Failure('protocol', 'the response of a list is not an array', { endpoint, httpStatus: 200 })
    }
    objects.push(...envelope.response)
    const next = envelope.metadata ? envelope.metadata.next_offset : undefined
    if (next === undefined || next === null) {
      return objects
    }
    const nextOffset = Number(next)
    if (!Number.isInteger(nextOffset) || nextOffset <= offset) {
      throw new Failure('protocol', `next_offset ${JSON.stringify(next)} does not advance past ${offset}`,
        { endpoint, httpStatus: 200 })
    }
    offset = nextOffset
  }
}

/** The whole tenant, as the contract's snapshot. */
async function sync (client, apiHost) {
  const users = await list(client, '/admin/v1/users', PAGE.users)
  const admins = await list(client, '/admin/v1/admins', PAGE.admins)
  const groups = await list(client, '/admin/v1/groups', PAGE.groups)
  const members = {}
  for (const group of groups) {
    const endpoint = `/admin/v2/groups/${group.group_id}/users`
    members[group.group_id] = (await list(client, endpoint, PAGE.members)).map((m) => m.user_id)
  }
  return {
    schema_version: 1,
    api_host: apiHost,
    synced_at: new Date().toISOString(),
    users,
    admins,
    groups,
    group_members: members
  }
}

/** Writes `document` whole: a temporary file, then a rename. */
function write (file, document) {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`)
  fs.writeFileSync(temporary, JSON.stringify(document))
  fs.renameSync(temporary, file)
}

async function main () {
  const missing = ['DUO_API_HOST', 'DUO_IKEY', 'DUO_SKEY', 'DUO_OUTPUT'].filter((n) => !process.env[n])
  if (missing.length > 0) {
    console.error(`duo_api_adapter: ${missing.join(', ')} not set`)
    return 2
  }
  const apiHost = process.env.DUO_API_HOST
  shim.install({ caFile: process.env.DUO_CA_CERT || null })
  // Node is about to exit with a call still waiting: the client dropped it without calling back
  // (it does so when an answer is cut mid-body). Say so instead of ending silently.
  process.on('beforeExit', () => {
    if (!pending) return
    if (!shim.lastExchange.error) {
      shim.lastExchange.error = new Error('the client never called back')
    }
    shim.lastExchange.error.message += ' (duo_api never called back)'
    pending('')
  })
  // Required after the shim is in place only for clarity: the client looks https.request up
  // at each call.
  const duoApi = require('@duosecurity/duo_api')
  const client = new duoApi.Client(process.env.DUO_IKEY, process.env.DUO_SKEY, apiHost)
  try {
    write(process.env.DUO_OUTPUT, await sync(client, apiHost))
    return 0
  } catch (error) {
    const failure = error instanceof Failure
      ? error
      : new Failure('protocol', `the adapter failed: ${error && error.stack ? error.stack : error}`)
    console.error(`duo_api_adapter: ${failure.document.kind}: ${failure.message}`)
    write(process.env.DUO_OUTPUT, { error: failure.document })
    return 1
  }
}

main().then((code) => { process.exitCode = code })
