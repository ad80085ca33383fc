import type { Query } from '../chain.js';
import { canonicalName } from '../wire.js';

/** dns-packet spells types it does not know UNKNOWN_n; CoreDNS (miekg/dns) prints TYPEn and CLASSn. */
export const typeText = (t: string | undefined): string => (t ?? '').replace(/^UNKNOWN_/, 'TYPE');
export const classText = (c: string | undefined): string => (c ?? 'IN').replace(/^UNKNOWN_/, 'CLASS');

/** The question's name as CoreDNS's state.Name(): lowercase, with the trailing dot. */
export const qnameText = (q: Query): string => canonicalName(q.msg.questions?.[0]?.name ?? '.');
export const qtypeText = (q: Query): string => typeText(q.msg.questions?.[0]?.type);
