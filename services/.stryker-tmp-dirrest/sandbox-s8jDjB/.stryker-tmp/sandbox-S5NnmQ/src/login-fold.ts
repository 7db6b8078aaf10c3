// @ts-nocheck
// 
// The one form of a login that the directory search and every key (cache, lockout) use. Directories
// match usernames loosely: caseIgnoreMatch prepares both sides per RFC 4518 (NFKC, case folded, leading
// and trailing spaces ignored, inner runs of spaces compared as one), so " bob", "Bob  " and the
// fullwidth "ｂｏｂ" all find bob's entry. Keyed as typed, each form would get a lock and a cache entry of
// its own; folded, they share one.
const PLAIN = /^[\x21-\x7e]*$/;

export function foldLogin(login: string): string {
  // Printable ASCII without spaces (nearly every login): nothing to normalise, and normalize() allocates.
  if (PLAIN.test(login)) return login.toLowerCase();
  return login.normalize('NFKC').replace(/\s+/gu, ' ').trim().toLowerCase();
}
