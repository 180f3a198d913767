/** Small zod pieces every stage-config schema file uses. */
import { z } from 'zod';

/** A whole number above zero (counts, sizes, milliseconds, seconds). */
export const positiveInt = z.number().int().positive();
