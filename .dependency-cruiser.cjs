/**
 * The layering of src/, checked by `npm run lint` (dependency-cruiser). Type-only imports count:
 * a cycle through types is still a cycle in the design.
 */
module.exports = {
  forbidden: [
    { name: "no-circular", severity: "error", comment: "A module must not reach itself again through its imports.", from: {}, to: { circular: true } },
    { name: "registry-is-a-leaf", severity: "error", comment: "The registries (names, codes, symbols, channels) import nothing of the SDK.", from: { path: "^src/registry/" }, to: { path: "^src/", pathNot: "^src/registry/" } },
    { name: "jsonpath-is-self-contained", severity: "error", comment: "The JSONPath engine knows nothing of HTTP, capture or delivery.", from: { path: "^src/jsonpath/" }, to: { path: "^src/", pathNot: "^src/(jsonpath|registry)/" } },
    { name: "delivery-knows-no-wire-call", severity: "error", comment: "Delivery policy talks to the Transport interface, never to a transport.", from: { path: "^src/delivery/" }, to: { path: "^src/(transport|integrations)/" } },
    { name: "no-upward-imports", severity: "error", comment: "Only the package entry points import the client and the integrations.", from: { path: "^src/", pathNot: "^src/(index|integrations/)" }, to: { path: "^src/(client\\.ts|integrations/)" } },
    { name: "no-sideways-integrations", severity: "error", comment: "An integration never imports another: what two share belongs in capture/.", from: { path: "^src/integrations/([^/]+)/" }, to: { path: "^src/integrations/", pathNot: "^src/integrations/$1/" } },
    { name: "viewer-off-the-import-path", severity: "error", comment: "The live viewer is loaded only when its option is set: outside src/viewer/, only a dynamic import() or a type import reaches it.", from: { path: "^src/", pathNot: "^src/viewer/" }, to: { path: "^src/viewer/", dependencyTypesNot: ["dynamic-import", "type-only"] } },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.build.json" },
  },
};
