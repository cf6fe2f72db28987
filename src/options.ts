/**
 * The one check behind every numeric option: modules validate their options once, at
 * construction, and a bad value fails there with a RangeError that names it.
 */
export function requireInteger(label: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new RangeError(`${label} must be an integer ${range}, got ${String(value)}`);
  }
  return value;
}
