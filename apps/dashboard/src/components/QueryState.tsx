import { Center, Loader, Paper, Text } from '@mantine/core';
import type { UseQueryResult } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { ErrorAlert } from './ErrorAlert';

/**
 * Loading and error states of a query in words; renders `children` once there is data, or
 * `empty` when a list came back without items.
 */
export function QueryState<T>({
  query,
  what,
  empty,
  children,
}: {
  query: UseQueryResult<T>;
  what: string;
  empty?: ReactNode;
  children: (data: T) => ReactNode;
}) {
  if (query.isPending) {
    return (
      <Center py="xl" aria-busy="true">
        <Loader size="sm" mr="sm" />
        <Text c="dimmed">Loading {what}…</Text>
      </Center>
    );
  }
  if (query.isError) return <ErrorAlert error={query.error} title={`Could not load ${what}`} />;
  if (empty && (query.data as { items?: unknown[] }).items?.length === 0) {
    return (
      <Paper withBorder p="lg">
        <Text>{empty}</Text>
      </Paper>
    );
  }
  return <>{children(query.data)}</>;
}
