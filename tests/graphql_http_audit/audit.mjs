// Runs graphql-http's GraphQL-over-HTTP server audits against the URL given as the
// first argument and prints one JSON array: [{id, name, status, reason?}], in order.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql url>');
  process.exit(2);
}
const results = [];
for (const { fn } of serverAudits({ url, fetchFn: fetch })) {
  const { id, name, status, reason } = await fn();
  results.push({ id, name, status, ...(reason === undefined ? {} : { reason }) });
}
console.log(JSON.stringify(results));
