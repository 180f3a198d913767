import type { z } from 'zod';

/** "at <path>: <message>" for the first issue of a zod error, for messages that name the problem's place. */
export function describeFirstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return `at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`;
}
