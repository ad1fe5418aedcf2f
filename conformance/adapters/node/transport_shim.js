'use strict'
// The transport shim that lets Duo's Node.js client (@duosecurity/duo_api 1.5.0) reach a fake
// Duo on a port of its own, and lets an adapter see what the client does not pass on. The client
// itself is not changed: every request still goes through its Client.apiCall, signed by it, sent
// by Node's https.request with the options it builds. What 1.5.0 does, and what the shim does
// about it (nothing else):
//
// 1. It has no port option: `host` goes to https.request as is, so `localhost:8443` is looked up
//    as a host name (`getaddrinfo ENOTFOUND localhost:8443`). The shim splits a trailing `:PORT`
//    off the connection's host into `port`. It leaves the `Host` header the client set alone:
//    the client signs `host` as given (port included) and sends exactly that as `Host`, so what is
//    signed stays what is sent (a fake or Duo accepts the host with or without its port).
// 2. It pins Duo's own CA bundle (`ca` in the request options), so NODE_EXTRA_CA_CERTS cannot
//    add another. With a CA file given, the shim puts it in the client's place: the certificate
//    is still verified, against that CA, and its name against the host.
// 3. Its callback gets the body text only (or `{"stat":"ERROR","message":…}` when the request
//    failed): no status, no headers, no error code. The shim keeps the last answer's status and
//    headers, and the last request's error, in `lastExchange`; the client's calls are made one
//    at a time by the adapter, so the last one is the one the callback is about. An answer cut
//    after its head is kept as an error too (ECONNRESET): the client listens for the body's end
//    only, so it never calls back then, and the adapter needs to know why.
//
// Everything else (signing, the Date and Host headers, 429 back-off, reading the body, no
// timeout) is the client's own.

const https = require('https')
const fs = require('fs')
const net = require('net')

/** What the client's last request got: the answer's status and headers, or the error. */
const lastExchange = { status: null, headers: null, error: null }

/** `localhost:8443` → ['localhost', 8443]; `[::1]:8443` → ['::1', 8443]; `localhost` → null. */
function splitHostPort (host) {
  const match = /^\[?([^\]]*?)\]?:(\d+)$/.exec(host || '')
  return match ? [match[1], Number(match[2])] : null
}

/**
 * Wraps https.request for the rest of the process. `caFile`: a PEM file of the CA to trust in
 * place of the client's pinned bundle (none: the client's bundle stays).
 */
function install ({ caFile } = {}) {
  const ca = caFile ? fs.readFileSync(caFile) : null
  const original = https.request
  https.request = function request (options, callback) {
    const wrapped = Object.assign({}, options)
    const split = splitHostPort(wrapped.host)
    if (split && wrapped.port === undefined) {
      wrapped.host = split[0]
      wrapped.port = split[1]
    }
    if (ca) {
      wrapped.ca = ca
    }
    if (!wrapped.servername && !net.isIP(wrapped.host)) {
      wrapped.servername = wrapped.host
    }
    lastExchange.status = null
    lastExchange.headers = null
    lastExchange.error = null
    const req = original.call(https, wrapped, function (res) {
      lastExchange.status = res.statusCode
      lastExchange.headers = res.headers
      // 'close' without the whole body: the connection was cut mid-answer. (A 'close' listener
      // changes nothing for the client, unlike an 'error' listener would.)
      res.on('close', function () {
        if (!res.complete && !lastExchange.error) {
          lastExchange.error = Object.assign(
            new Error(`the answer (HTTP ${res.statusCode}) was cut before its end`),
            { code: 'ECONNRESET' })
        }
      })
      if (callback) callback(res)
    })
    // Registered before the client's own listener: the error is kept before its callback runs.
    req.on('error', function (error) {
      lastExchange.error = error
    })
    return req
  }
}

module.exports = { install, lastExchange, splitHostPort }
