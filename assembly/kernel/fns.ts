// FeatureFn values (src/kernel/program-spec.ts): part of the binary program format.
export const FN_LAST: u32 = 1;
export const FN_COUNT: u32 = 2;
export const FN_SUM: u32 = 3;
export const FN_AVG: u32 = 4;
export const FN_MIN: u32 = 5;
export const FN_MAX: u32 = 6;
export const FN_STDDEV: u32 = 7;
export const FN_DELTA: u32 = 8;
export const FN_RATE: u32 = 9;
export const FN_DERIV: u32 = 10;
export const FN_DERIV2: u32 = 11;
export const FN_RATE_DERIV: u32 = 12;
export const FN_RATE_DERIV2: u32 = 13;
export const FN_EWMA: u32 = 14;
export const FN_AGE: u32 = 15;
