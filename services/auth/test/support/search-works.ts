// A connection the directory layer handed back is usable: one base search of the directory's base DN
// answers one entry. The connection is unbound after, whatever the search did.
import assert from 'node:assert/strict';
import type { Client } from 'ldapts';

export async function searchWorks(client: Client, baseDn: string): Promise<void> {
  try {
    const { searchEntries } = await client.search(baseDn, { scope: 'base', attributes: ['1.1'] });
    assert.equal(searchEntries.length, 1);
  } finally {
    await client.unbind();
  }
}
