import { z } from 'zod';

/**
 * A label selector `key=value,key2=value2` (all must match), as used in `?labels=` and in
 * `target.labels` (DESIGN.md §5). Parsed into the map it must be a subset of.
 */
export const labelSelectorSchema = z
  .string()
  .max(2048)
  .transform((selector, ctx) => {
    const labels: Record<string, string> = {};
    for (const term of selector.split(',').map((t) => t.trim()).filter(Boolean)) {
      const eq = term.indexOf('=');
      const key = eq > 0 ? term.slice(0, eq).trim() : '';
      if (!key) {
        ctx.addIssue({ code: 'custom', message: `"${term}" is not key=value` });
        return z.NEVER;
      }
      labels[key] = term.slice(eq + 1).trim();
    }
    return labels;
  });
