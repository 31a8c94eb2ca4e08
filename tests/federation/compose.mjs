// Composes subgraphs into a supergraph with both Apollo Federation composers:
// @apollo/composition (Apollo's own) and @theguild/federation-composition (GraphQL Hive's).
//
//   node tests/federation/compose.mjs [NAME=]FILE.graphql ...
//
// With no argument: the hub (schema/schema.graphql) and the employees subgraph beside this
// script. Prints each composer's result and Apollo's composition hints; exits 1 when either
// composer reports an error, or when a supergraph lacks a field of a subgraph's entity
// extension (Mission.interestedEmployees), 2 on bad usage. The packages come from tests/node
// (`npm ci` there).
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', 'node', 'package.json'));
const { parse, Kind } = require('graphql');
const apollo = require('@apollo/composition');
const guild = require('@theguild/federation-composition');

const args = process.argv.slice(2);
const files = args.length
  ? args
  : [`hub=${join(here, '..', '..', 'schema', 'schema.graphql')}`, join(here, 'employees.graphql')];

let services;
try {
  services = files.map((arg) => {
    const [name, path] = arg.includes('=') ? arg.split(/=(.*)/s) : [basename(arg, '.graphql'), arg];
    return { name, url: `http://${name}.invalid/graphql`, typeDefs: parse(readFileSync(path, 'utf8')) };
  });
} catch (error) {
  console.error(`usage: node compose.mjs [NAME=]FILE.graphql ...\n${error.message}`);
  process.exit(2);
}

// Fields that each subgraph adds to each type, to be found in the supergraph.
function objectFields(document) {
  const fields = new Map();
  for (const definition of document.definitions) {
    if (
      definition.kind === Kind.OBJECT_TYPE_DEFINITION ||
      definition.kind === Kind.OBJECT_TYPE_EXTENSION
    ) {
      const known = fields.get(definition.name.value) ?? new Set();
      for (const field of definition.fields ?? []) known.add(field.name.value);
      fields.set(definition.name.value, known);
    }
  }
  return fields;
}

function missing(supergraphSdl) {
  const composed = objectFields(parse(supergraphSdl));
  const lost = [];
  for (const service of services) {
    for (const [type, fields] of objectFields(service.typeDefs)) {
      for (const field of fields) {
        // _entities, _service, _Service: the router's, not the API's
        if (type.startsWith('_') || field.startsWith('_')) continue;
        if (!composed.get(type)?.has(field)) lost.push(`${service.name}: ${type}.${field}`);
      }
    }
  }
  return lost;
}

function report(composer, errors, supergraphSdl, hints = []) {
  if (errors?.length) {
    for (const error of errors) {
      const code = error.extensions?.code ? `[${error.extensions.code}] ` : '';
      console.error(`${composer}: error ${code}${error.message}`);
    }
    return false;
  }
  const lost = missing(supergraphSdl);
  for (const field of lost) console.error(`${composer}: error: the supergraph lacks ${field}`);
  for (const hint of hints) console.log(`${composer}: hint ${hint.toString()}`);
  console.log(
    `${composer}: ok, ${services.length} subgraphs (${services.map((s) => s.name).join(', ')}), ` +
      `${hints.length} hints`,
  );
  return lost.length === 0;
}

const fromApollo = apollo.composeServices(services);
const apolloOk = report('apollo', fromApollo.errors, fromApollo.supergraphSdl, fromApollo.hints);
const fromGuild = guild.composeServices(services);
const guildOk = report('guild', fromGuild.errors, fromGuild.supergraphSdl);
process.exit(apolloOk && guildOk ? 0 : 1);
