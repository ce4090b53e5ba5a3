import { Alert } from '@mantine/core';
import { describeError } from '../api/api-error';

/** An API or network error, in words. */
export function ErrorAlert({ error, title = 'Something went wrong' }: { error: unknown; title?: string }) {
  if (!error) return null;
  return (
    <Alert color="red" title={title} role="alert" mb="md">
      {describeError(error)}
    </Alert>
  );
}
