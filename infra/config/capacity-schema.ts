/**
 * The stage config's provisioned-concurrency settings: bounds, target tracking, and the
 * scheduled changes before known peaks (also used by the neural service's task count).
 */
import { z } from 'zod';
import { positiveInt } from './schema-parts';

const scheduleExpression = z
  .string()
  .regex(
    /^(cron\((\S+ ){5}\S+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\)|at\(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\))$/,
    'cron(m h dom mon dow y), rate(n unit) or at(yyyy-mm-ddThh:mm:ss)',
  );

export const scheduledCapacitySchema = z.strictObject({
  /** Construct id and human name, e.g. `weekday-peak`. Letters, digits and dashes. */
  name: z.string().regex(/^[a-z0-9-]+$/),
  /** Application Auto Scaling schedule: `cron(m h dom mon dow y)`, `rate(...)` or `at(...)`. */
  schedule: scheduleExpression,
  /** IANA time zone the schedule is written in. @default 'UTC' */
  timeZone: z.string().min(1).optional(),
  /** Provisioned-concurrency floor from this time on. */
  minCapacity: positiveInt,
  /** Provisioned-concurrency ceiling from this time on. */
  maxCapacity: positiveInt,
});
/** A scheduled change of the provisioned-concurrency bounds before a known peak (or after it). */
export type ScheduledCapacity = z.infer<typeof scheduledCapacitySchema>;

export const capacitySchema = z.strictObject({
  /** Floor of provisioned concurrency outside scheduled peaks. */
  minProvisioned: positiveInt,
  /** Ceiling of provisioned concurrency. */
  maxProvisioned: positiveInt,
  /** Target-tracking utilization, 0.1–0.9 (0.6 keeps 40 % headroom for bursts). */
  utilizationTarget: z.number().min(0.1).max(0.9),
  /** Scheduled bounds for known peaks, in order of the day. */
  scheduled: z.array(scheduledCapacitySchema),
});
/** Provisioned concurrency of the score alias, owned by Application Auto Scaling. */
export type CapacityConfig = z.infer<typeof capacitySchema>;
