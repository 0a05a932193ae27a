// What the rule VM needs from the feature kernel (docs/internals.md, "Seam between the
// feature kernel and the rule VM"), gathered in one place so the VM depends on one module.
export { deviceAttrValue as deviceAttr, deviceAttrMatches as deviceAttrIs } from '../kernel/devices';
export { reserveOutbox as outboxReserve } from '../kernel/outbox';
export { featureValue } from '../index';
