// Next.js 14's static-generation store module (its route handlers' store; 15+ replaced it by the work
// store). Absent from the Next version the SDK is type-checked with, so declared here; internals.ts
// reads it structurally.
declare module "next/dist/client/components/static-generation-async-storage.external.js";
