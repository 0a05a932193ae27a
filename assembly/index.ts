// Kernel entry points (see docs/internals.md). Filled in by the feature kernel.
export function init(): void {}
