import { Text } from '@mantine/core';
import type { ReactNode } from 'react';

/** A small caption over a value, for the fact grids of the agent and execution pages. */
export function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text component="div" size="sm" style={{ wordBreak: 'break-word' }}>
        {children || '–'}
      </Text>
    </div>
  );
}
