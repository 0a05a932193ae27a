// What the rule VM needs from the feature kernel (docs/internals.md, "Seam between the
// feature kernel and the rule VM"): one module, so the VM has one dependency and no cycle.
export { queryDeviceFeature, attrOf, attrIsOf, transitionReserve } from '../kernel/seam';
