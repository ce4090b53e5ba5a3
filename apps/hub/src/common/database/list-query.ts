import type { QueryBuilder, QueryOrderMap } from '@mikro-orm/postgresql';
import type { Page } from '../validation/common-schemas';

/** `%text%` for ILIKE, with the user's own `%`, `_` and `\` matching themselves. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** One page of a filtered list, sorted with the id as tie-breaker so pages never overlap. */
export async function fetchPage<T extends object, V>(
  qb: QueryBuilder<T>,
  query: { limit: number; offset: number; order: 'asc' | 'desc'; sort: string },
  toView: (row: T) => V,
): Promise<Page<V>> {
  const total = await qb.clone().getCount();
  const rows = await qb
    .orderBy({ [query.sort]: query.order, id: query.order } as QueryOrderMap<T>)
    .limit(query.limit)
    .offset(query.offset)
    .getResultList();
  return { items: rows.map(toView), total, limit: query.limit, offset: query.offset };
}
