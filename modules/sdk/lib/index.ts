// The shared libraries of the module suite: `import { MultiSearch, ... } from "../sdk/lib"`.
export * from "./hash";
export * from "./u64map";
export * from "./bytesmap";
export * from "./bloom";
export * from "./keyslots";
export * from "./window";
export * from "./tokenbucket";
export * from "./percent";
export * from "./base64";
export * from "./multisearch";
export * from "./utf8";
