// @ts-nocheck
// 
// 
// The configured filters without their per-request clauses, for questions asked once: "does the user base
// hold any user?", "is this named entry a group?". A clause that compares against {username} or {dn}
// becomes a presence test (users) or is dropped (groups: an AD group may have no members at all).
import { FilterParser } from 'ldapts';

// (attr=value) or an extensible match (attr:rule:=value) whose value holds a placeholder.
const PLACEHOLDER_CLAUSE =
  /\(([A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)(?::[^()=]*)?=[^()]*\{(?:username|dn)\}[^()]*\)/g;

/** `(uid={username})` → `(uid=*)`: entries that have the attribute the login is matched against. */
export function usersFilter(template: string): string {
  return checked(template.replace(PLACEHOLDER_CLAUSE, '($1=*)'));
}

/** `(member={dn})` → `(objectClass=*)`: what makes an entry a group, whoever its members are. */
export function groupsFilter(template: string): string {
  return checked(template.replace(PLACEHOLDER_CLAUSE, '(objectClass=*)'));
}

function checked(filter: string): string {
  FilterParser.parseString(filter); // throws on a shape config.ts would already have refused
  return filter;
}
