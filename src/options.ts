/**
 * The building blocks of the option schemas. Each module that can be configured exports
 * a zod schema of the environment variables it reads, whose output is its typed options
 * with their defaults; config.ts composes those schemas, and modules trust what they get.
 * So a default is declared once, in its module's schema, and every error names the
 * variable (a cross-field check names each variable it compares).
 */
import { z } from 'zod';

/** A whole number in [min, max], read from an environment string. */
export const envInteger = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/** The options a schema gives an empty environment: the module's defaults. */
export function defaultsOf<T>(schema: z.ZodType<T>): T {
  return schema.parse({});
}

/**
 * For a module's own constructor arguments that no configuration feeds: a bad value fails
 * at construction with a RangeError that names it.
 */
export function requireInteger(label: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new RangeError(`${label} must be an integer ${range}, got ${String(value)}`);
  }
  return value;
}
