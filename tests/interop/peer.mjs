// A Fedify peer for copub's interoperability tests: one Person actor on https, and a
// plain-HTTP control API on loopback that the tests drive.
//
//   node peer.mjs  (env: PEER_CERT, PEER_KEY: PEM files; PEER_HOST (default localhost);
//                   PEER_PORT (0: any); PEER_USERNAME (default alice); PEER_LOG: a LogTape
//                   level for Fedify's own log on stderr (default "warning");
//                   PEER_FIRST_KNOCK: "rfc9421" (Fedify's default) or
//                   "draft-cavage-http-signatures-12", the first signature tried on a server)
//
// Prints one JSON line on stdout when ready: {"origin", "actor", "handle", "control"}.
// Exits on SIGTERM, or when its stdin closes (the test process that started it is gone).
// Trust for the other side's certificate comes from NODE_EXTRA_CA_CERTS.
//
// Control API (JSON in, JSON out; errors are {"error"} with a 4xx/5xx status):
//   GET  /health                    -> {origin, actor, handle}
//   POST /lookup   {query, signed?} -> {id, type, document}  (handle, acct: or URL; signed:
//                                      fetch with the actor's signature, for secure mode)
//   POST /follow   {target}         -> {activity}            sends Follow
//   POST /unfollow {target}         -> {activity}            sends Undo(Follow)
//   POST /post     {target, content, inReplyTo?, context?, deliver?} -> {activity, note}
//                                      a public Create(Note) mentioning target; context:
//                                      a thread of POST /thread (the note joins it);
//                                      deliver: false serves the note without sending it
//                                      (target may then be null: no mention)
//   POST /thread   {}               -> {id}  a new thread, served as an OrderedCollection of
//                                      the notes posted in it (FEP-7888 context)
//   POST /like     {object}         -> {activity}            Like, sent to its author
//   POST /unlike   {object}         -> {activity}            Undo(Like), likewise
//   POST /flag     {target, objects, content} -> {activity}  a report (Flag) of objects
//                                      (account and post URLs) to target's inbox, with
//                                      the reason in content, as Mastodon sends one
//   POST /send-signed {target, content, spec, alter} -> {status, body}  a Create signed
//                                      by Fedify's signRequest() with spec ("rfc9421" or
//                                      "draft-cavage-http-signatures-12"); alter: the body
//                                      is changed after signing, as by a man in the middle
//   POST /nodeinfo {url}            -> the server's NodeInfo, parsed strictly by Fedify
//   POST /collection {url}          -> {type, totalItems, items: [ids]}, all pages read
//   GET  /received                  -> [activities that passed Fedify's verification:
//                                      {id, type, actor, object, objects, content, ...}]
//   GET  /rejected                  -> [inbox requests Fedify refused: {status, body}]
//   GET  /fetches                   -> [fetches of the actor: {keyId, owner} of the
//                                      verified signature; the actor needs one (like
//                                      Mastodon's secure mode)]
//   GET  /requests                  -> [signed requests to the federation side:
//                                      {method, path, spec, keyId, status}, spec as in
//                                      /send-signed (the peer's own fetches of itself too)]
//   POST /refuse   {specs}          -> {refused}  answer 401 to requests signed with these
//                                      specs before Fedify sees them, as a server that checks
//                                      only the other format ([]: verify both, the default)
import { AsyncLocalStorage } from "node:async_hooks";
import { Buffer } from "node:buffer";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import process from "node:process";
import {
  Accept,
  Activity,
  Collection,
  CollectionPage,
  Create,
  createFederation,
  Endpoints,
  Flag,
  Follow,
  importJwk,
  Like,
  MemoryKvStore,
  Mention,
  nodeInfoToJson,
  Note,
  OrderedCollection,
  parseNodeInfo,
  Person,
  PUBLIC_COLLECTION,
  signRequest,
  Undo,
} from "@fedify/fedify";
import { Temporal } from "@js-temporal/polyfill";
import { configure, defaultTextFormatter } from "@logtape/logtape";

const env = process.env;
const HOST = env.PEER_HOST ?? "localhost";
const USERNAME = env.PEER_USERNAME ?? "alice";

// Logs go to stderr (stdout carries only the ready line, and nobody drains it after).
await configure({
  sinks: { stderr: (record) => process.stderr.write(defaultTextFormatter(record)) },
  contextLocalStorage: new AsyncLocalStorage(),
  loggers: [
    { category: "fedify", lowestLevel: env.PEER_LOG ?? "warning", sinks: ["stderr"] },
    { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
  ],
});

const received = []; // verified activities, in arrival order
const rejected = []; // inbox POSTs Fedify did not accept
const fetches = []; // signed GETs of the actor document
const requests = []; // signed requests to the federation side, in arrival order
const refusedSpecs = new Set(); // signature specs answered with 401 (POST /refuse)
const served = new Map(); // id -> what the actor published or sent
const follows = new Map(); // followed actor id -> our Follow
const likes = new Map(); // liked object id -> our Like
const threads = new Map(); // thread (context) id -> ids of the notes posted in it
// The actor's keys are fixed (peer-keys.json, test-only) so that recorded fixtures can be
// verified later: RSA for HTTP and LD signatures, Ed25519 for Object Integrity Proofs.
const keyFile = JSON.parse(readFileSync(new URL("./peer-keys.json", import.meta.url), "utf-8"));
async function keyPair(jwk) {
  const { d, p, q, dp, dq, qi, key_ops, ...publicJwk } = jwk;
  return {
    privateKey: await importJwk(jwk, "private"),
    publicKey: await importJwk(publicJwk, "public"),
  };
}
const keys = [await keyPair(keyFile.rsa), await keyPair(keyFile.ed25519)];

// -- the federation side -------------------------------------------------------------

const server = https.createServer({
  cert: readFileSync(env.PEER_CERT),
  key: readFileSync(env.PEER_KEY),
});
await new Promise((resolve) => server.listen(Number(env.PEER_PORT ?? 0), "127.0.0.1", resolve));
const origin = `https://${HOST}:${server.address().port}`;

const federation = createFederation({
  kv: new MemoryKvStore(),
  origin,
  allowPrivateAddress: true, // everything runs on 127.0.0.1
  firstKnock: env.PEER_FIRST_KNOCK ?? "rfc9421",
});

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== USERNAME) return null;
    const pairs = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: "Alice (Fedify peer)",
      summary: "A Fedify test peer for copub.",
      url: ctx.getActorUri(identifier),
      inbox: ctx.getInboxUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      publicKey: pairs[0].cryptographicKey,
      assertionMethods: pairs.map((pair) => pair.multikey),
    });
  })
  .authorize((_ctx, _identifier, signedKey, signedKeyOwner) => {
    fetches.push({ keyId: signedKey?.id?.href ?? null, owner: signedKeyOwner?.id?.href ?? null });
    return signedKey != null && signedKeyOwner != null;
  })
  .mapHandle((_ctx, username) => (username === USERNAME ? USERNAME : null))
  .setKeyPairsDispatcher((_ctx, identifier) => (identifier === USERNAME ? keys : []));

// Everything the actor sent is served at its id: Fedify peers dereference ids of objects
// embedded from another origin (an Accept's Follow) rather than trust the embedding.
for (const [cls, path] of [
  [Note, "/users/{identifier}/notes/{id}"],
  [Create, "/users/{identifier}/notes/{id}/activity"],
  [Follow, "/users/{identifier}/follows/{id}"],
  [Undo, "/users/{identifier}/undos/{id}"],
  [Like, "/users/{identifier}/likes/{id}"],
  [Flag, "/users/{identifier}/flags/{id}"],
]) {
  federation.setObjectDispatcher(cls, path, (ctx, values) => {
    const found = served.get(ctx.getObjectUri(cls, values).href);
    return found instanceof cls ? found : null;
  });
}

// Each thread as FEP-7888 has it: an OrderedCollection of its posts, oldest first.
federation.setObjectDispatcher(OrderedCollection, "/users/{identifier}/threads/{id}", (ctx, values) => {
  const id = ctx.getObjectUri(OrderedCollection, values);
  const items = threads.get(id.href);
  if (items == null) return null;
  return new OrderedCollection({
    id,
    attribution: me(),
    totalItems: items.length,
    items: items.map((item) => new URL(item)),
  });
});

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .withIdempotency("per-inbox")
  .on(Activity, async (ctx, activity) => {
    // Resolve the object as a Fedify app would (embedded, else fetched; a failure fails
    // the request, so it shows up in /rejected). A Flag's objects are what it reports:
    // URLs to keep, not to fetch (the first is usually our own actor).
    const object = activity instanceof Flag ? null : await activity.getObject();
    received.push({
      id: activity.id?.href ?? null,
      type: activity.constructor.name,
      actor: activity.actorId?.href ?? null,
      object: activity.objectId?.href ?? null,
      // every object (a Flag names an account and posts) and the text (a Flag's reason)
      objects: activity.objectIds.map((id) => id.href),
      content: activity.content?.toString() ?? null,
      objectType: object?.constructor.name ?? null,
      recipient: ctx.recipient,
      document: await activity.toJsonLd({ format: "compact" }),
      // For an Accept: the Follow it accepts, as Fedify read it.
      acceptedFollow: activity instanceof Accept && object instanceof Follow ? object.id?.href : null,
    });
  })
  .onError((_ctx, error) => {
    rejected.push({ status: 0, body: `listener error: ${error}` });
  });

async function toRequest(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    for (const one of [value].flat()) headers.append(name, one);
  }
  const body = chunks.length ? Buffer.concat(chunks) : undefined;
  const url = new URL(req.url, `https://${req.headers.host ?? HOST}`);
  return new Request(url, { method: req.method, headers, body });
}

async function writeResponse(res, response) {
  const body = Buffer.from(await response.arrayBuffer());
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(body);
}

// The signature spec a request carries (Fedify's names), or null when it is unsigned.
function signatureSpec(headers) {
  if (headers.has("signature-input")) return "rfc9421";
  return headers.has("signature") ? "draft-cavage-http-signatures-12" : null;
}

// Who signed it, as the request says (for the log, not verified): the keyId / keyid.
function signatureKeyId(headers) {
  const text = headers.get("signature-input") ?? headers.get("signature") ?? "";
  return /keyid="([^"]*)"/i.exec(text)?.[1] ?? null;
}

server.on("request", async (req, res) => {
  try {
    const request = await toRequest(req);
    const spec = signatureSpec(request.headers);
    let response;
    if (spec != null && refusedSpecs.has(spec)) {
      response = new Response(`this server does not check ${spec} signatures`, { status: 401 });
    } else {
      response = await federation.fetch(request, { contextData: undefined });
      if (request.method === "POST" && !response.ok) {
        rejected.push({ path: req.url, status: response.status, body: await response.clone().text() });
      }
    }
    if (spec != null) {
      const keyId = signatureKeyId(request.headers);
      requests.push({ method: request.method, path: req.url, spec, keyId, status: response.status });
    }
    await writeResponse(res, response);
  } catch (error) {
    res.writeHead(500, { "Content-Type": "text/plain" }).end(String(error?.stack ?? error));
  }
});

// -- the control side ----------------------------------------------------------------

const NODEINFO_2X = /^http:\/\/nodeinfo\.diaspora\.software\/ns\/schema\/2\.[01]$/;
const ctx = () => federation.createContext(new URL(origin), undefined);
const me = () => ctx().getActorUri(USERNAME);
const newId = (kind) => new URL(`/users/${USERNAME}/${kind}/${randomUUID()}`, origin);

class ControlError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function lookup(query, signed = false) {
  const context = ctx();
  const documentLoader = signed ? await context.getDocumentLoader({ identifier: USERNAME }) : undefined;
  const found = await context.lookupObject(query, { documentLoader });
  if (found == null) throw new ControlError(404, `lookup of ${query} found nothing`);
  return found;
}

async function lookupActor(query) {
  const actor = await lookup(query);
  if (actor.inboxId == null) throw new ControlError(400, `${query} is not an actor`);
  return actor;
}

// To one actor: its own inbox, as Fedify does by default (posts go to the shared inbox).
async function send(recipient, activity, preferSharedInbox = false) {
  served.set(activity.id.href, activity);
  await ctx().sendActivity({ identifier: USERNAME }, recipient, activity, { preferSharedInbox });
  return { activity: await activity.toJsonLd({ format: "compact" }) };
}

async function buildNote(target, content, inReplyTo, context = null) {
  const handle = target ? `@${target.preferredUsername}@${target.id.host}` : null;
  const id = newId("notes");
  const note = new Note({
    id,
    attribution: me(),
    to: PUBLIC_COLLECTION,
    ccs: target ? [target.id] : [],
    content: target
      ? `<p><a href="${target.id.href}" class="mention">${handle}</a> ${content}</p>`
      : `<p>${content}</p>`,
    tags: target ? [new Mention({ href: target.id, name: handle })] : [],
    replyTarget: inReplyTo ? new URL(inReplyTo) : null,
    contexts: context ? [new URL(context)] : [],
    published: Temporal.Now.instant(),
    url: id,
  });
  const create = new Create({
    id: new URL(`${id.href}/activity`),
    actor: me(),
    object: note,
    to: PUBLIC_COLLECTION,
    ccs: target ? [target.id] : [],
    published: note.published,
  });
  served.set(id.href, note);
  served.set(create.id.href, create);
  if (context) threads.get(context)?.push(id.href);
  return { note, create };
}

const routes = {
  "GET /health": () => ({ origin, actor: me().href, handle: `${USERNAME}@${new URL(origin).host}` }),
  "GET /received": () => received,
  "GET /rejected": () => rejected,
  "GET /fetches": () => fetches,
  "GET /requests": () => requests,
  "POST /refuse": ({ specs }) => {
    refusedSpecs.clear();
    for (const spec of specs) refusedSpecs.add(spec);
    return { refused: [...refusedSpecs] };
  },
  "POST /lookup": async ({ query, signed }) => {
    const found = await lookup(query, signed === true);
    return {
      id: found.id?.href,
      type: found.constructor.name,
      document: await found.toJsonLd({ format: "compact" }), // what Fedify understood
    };
  },
  "POST /nodeinfo": async ({ url }) => {
    // Fedify's getNodeInfo() refuses loopback addresses outright (no allowPrivateAddress),
    // so the peer follows the discovery document itself, then parses with Fedify, strictly.
    const fetchJson = async (target) => {
      const response = await fetch(target, { headers: { Accept: "application/json" } });
      if (!response.ok) throw new ControlError(422, `${target} answered ${response.status}`);
      return await response.json();
    };
    const discovery = await fetchJson(new URL("/.well-known/nodeinfo", url));
    const link = discovery.links?.find((l) => NODEINFO_2X.test(l?.rel ?? "") && l.href != null);
    if (link == null) throw new ControlError(422, `no NodeInfo 2.x link at ${url}`);
    const info = parseNodeInfo(await fetchJson(link.href), { tryBestEffort: false });
    if (info == null) throw new ControlError(422, `Fedify refused the NodeInfo at ${link.href}`);
    return nodeInfoToJson(info);
  },
  "POST /collection": async ({ url }) => {
    const root = await lookup(url);
    if (!(root instanceof Collection)) {
      throw new ControlError(422, `${url} is a ${root.constructor.name}, not a collection`);
    }
    const items = [];
    const seen = new Set();
    let page = root.firstId == null ? root : await root.getFirst();
    while (page != null && !seen.has(page.id?.href)) {
      seen.add(page.id?.href);
      items.push(...page.itemIds.map((id) => id.href));
      page = page instanceof CollectionPage && page.nextId != null ? await page.getNext() : null;
    }
    return { type: root.constructor.name, totalItems: root.totalItems, items };
  },
  "POST /follow": async ({ target }) => {
    const actor = await lookupActor(target);
    const follow = new Follow({ id: newId("follows"), actor: me(), object: actor.id });
    follows.set(actor.id.href, follow);
    return await send(actor, follow);
  },
  "POST /unfollow": async ({ target }) => {
    const actor = await lookupActor(target);
    const follow = follows.get(actor.id.href);
    if (follow == null) throw new ControlError(409, `not following ${actor.id.href}`);
    follows.delete(actor.id.href);
    return await send(actor, new Undo({ id: newId("undos"), actor: me(), object: follow }));
  },
  "POST /post": async ({ target, content, inReplyTo, context, deliver }) => {
    if (context != null && !threads.has(context)) throw new ControlError(404, `no thread ${context}`);
    const actor = target == null ? null : await lookupActor(target);
    const { note, create } = await buildNote(actor, content, inReplyTo, context);
    const noteJson = await note.toJsonLd({ format: "compact" });
    if (deliver === false || actor == null) {
      return { activity: await create.toJsonLd({ format: "compact" }), note: noteJson };
    }
    const sent = await send(actor, create, true);
    return { ...sent, note: noteJson };
  },
  "POST /thread": () => {
    const id = ctx().getObjectUri(OrderedCollection, { identifier: USERNAME, id: randomUUID() });
    threads.set(id.href, []);
    return { id: id.href };
  },
  "POST /like": async ({ object }) => {
    const found = await lookup(object);
    const author = await lookupActor(found.attributionId?.href ?? object);
    const like = new Like({ id: newId("likes"), actor: me(), object: found.id });
    likes.set(found.id.href, like);
    return await send(author, like);
  },
  "POST /unlike": async ({ object }) => {
    const like = likes.get(object);
    if (like == null) throw new ControlError(409, `no Like of ${object}`);
    likes.delete(object);
    const found = await lookup(object);
    const author = await lookupActor(found.attributionId?.href ?? object);
    return await send(author, new Undo({ id: newId("undos"), actor: me(), object: like }));
  },
  "POST /flag": async ({ target, objects, content }) => {
    // As Mastodon reports: the account, then posts, the reason in content; to the
    // target's own inbox (Mastodon sends to the reported account's inbox_url).
    const actor = await lookupActor(target);
    const flag = new Flag({
      id: newId("flags"),
      actor: me(),
      objects: objects.map((url) => new URL(url)),
      content,
      to: actor.id,
    });
    return await send(actor, flag);
  },
  "POST /send-signed": async ({ target, content, spec, alter }) => {
    // Signed as Fedify signs; with alter, the body changes on the way (the digest now lies).
    const actor = await lookupActor(target);
    const { create } = await buildNote(actor, content);
    const body = JSON.stringify(await create.toJsonLd({ format: "compact" }));
    const inbox = actor.endpoints?.sharedInbox ?? actor.inboxId;
    const signed = await signRequest(
      new Request(inbox, {
        method: "POST",
        headers: { "Content-Type": "application/activity+json" },
        body,
      }),
      keys[0].privateKey,
      new URL(`${me().href}#main-key`),
      { spec },
    );
    const sent = alter ? body.replace(content, `${content} (altered in transit)`) : body;
    const response = await fetch(inbox, { method: "POST", headers: signed.headers, body: sent });
    return { status: response.status, body: await response.text() };
  },
};

const control = http.createServer(async (req, res) => {
  const route = routes[`${req.method} ${new URL(req.url, "http://control").pathname}`];
  let status = 200;
  let result;
  try {
    if (route == null) throw new ControlError(404, `no route ${req.method} ${req.url}`);
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const input = chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf-8")) : {};
    result = await route(input);
  } catch (error) {
    status = error instanceof ControlError ? error.status : 502;
    result = { error: String(error?.message ?? error) };
  }
  res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(result));
});
await new Promise((resolve) => control.listen(0, "127.0.0.1", resolve));

const stop = () => {
  server.close();
  control.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
// The tests hold our stdin open: if they die without stopping us, end with them.
process.stdin.on("end", stop);
process.stdin.resume();

const handle = `${USERNAME}@${new URL(origin).host}`;
const ready = {
  origin,
  actor: me().href,
  handle,
  control: `http://127.0.0.1:${control.address().port}`,
};
process.stdout.write(`${JSON.stringify(ready)}\n`);
