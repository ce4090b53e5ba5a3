import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { describeError } from '../api/api-error';

/**
 * A button's API call: its error is shown in words (a notification), and the queries it changes
 * are refetched once it succeeds.
 */
export function useAction<TArgs, TResult>(
  run: (args: TArgs) => Promise<TResult>,
  options: { invalidates?: unknown[][]; success?: (result: TResult) => string | null; failure: string; onSuccess?: (result: TResult) => void },
) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: run,
    onSuccess: (result) => {
      for (const queryKey of options.invalidates ?? []) void queryClient.invalidateQueries({ queryKey });
      const message = options.success?.(result);
      if (message) notifications.show({ color: 'green', message });
      options.onSuccess?.(result);
    },
    onError: (error) => notifications.show({ color: 'red', title: options.failure, message: describeError(error), autoClose: 10_000 }),
  });
}
